package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSignInRequired(t *testing.T) {
	t.Parallel()
	h := start(t)
	b := newBrowser(t, h.url)
	p := b.get("/console/s/anything/stock?q=x")
	requireStatus(t, p, http.StatusSeeOther)
	if want := "/console/signin?next=" + url.QueryEscape("/console/s/anything/stock?q=x"); p.location != want {
		t.Fatalf("redirect to %q, want %q", p.location, want)
	}
	// A form posted without a session changes nothing.
	requireStatus(t, b.post("/console/s/anything/changes/receive", url.Values{"purchaseOrderId": {"po"}}), http.StatusForbidden)
}

func TestSignInWithShopKey(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	b := newBrowser(t, h.url)
	p := b.signIn(s.key)
	requireStatus(t, p, http.StatusSeeOther)
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "checkoutd_console" && c.Value != "" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Secure || cookie.MaxAge <= 0 {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP, expiring", cookie)
	}
	home := b.get(p.location)
	requireStatus(t, home, http.StatusSeeOther)
	if home.location != "/console/s/"+s.ID+"/" {
		t.Fatalf("a shop key's home is %q, want its shop", home.location)
	}
	requireContains(t, b.get(home.location), "Overview", "shop <strong>"+s.ID+"</strong>", "key "+s.keyID)
}

func TestSessionCookieSecureBehindHTTPS(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	b := newBrowser(t, h.url)
	form := b.get("/console/signin")
	req, _ := http.NewRequest(http.MethodPost, h.url+"/console/signin",
		strings.NewReader(url.Values{"csrf": {form.csrf(t)}, "token": {s.key}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	p := b.do(req)
	requireStatus(t, p, http.StatusSeeOther)
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "checkoutd_console" && !c.Secure {
			t.Fatalf("cookie %+v not Secure behind HTTPS", c)
		}
	}
}

func TestSignInRefusals(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	for _, tc := range []struct {
		name   string
		form   func(csrf string) url.Values
		status int
		says   string
	}{
		{"wrong key", func(csrf string) url.Values { return url.Values{"csrf": {csrf}, "token": {s.key + "x"}} }, http.StatusUnauthorized, "That key is not valid."},
		{"garbage", func(csrf string) url.Values { return url.Values{"csrf": {csrf}, "token": {"\x00nope"}} }, http.StatusUnauthorized, "That key is not valid."},
		{"empty", func(csrf string) url.Values { return url.Values{"csrf": {csrf}, "token": {" "}} }, http.StatusUnprocessableEntity, "Enter a shop key"},
		{"no CSRF token", func(string) url.Values { return url.Values{"token": {s.key}} }, http.StatusForbidden, "The form had expired."},
		{"wrong CSRF token", func(string) url.Values { return url.Values{"csrf": {"forged"}, "token": {s.key}} }, http.StatusForbidden, "The form had expired."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t, h.url)
			p := b.post("/console/signin", tc.form(b.get("/console/signin").csrf(t)))
			requireStatus(t, p, tc.status)
			requireContains(t, p, tc.says)
			requireStatus(t, b.get("/console/s/"+s.ID+"/"), http.StatusSeeOther)
		})
	}
}

func TestShopKeyCannotSeeAnotherShop(t *testing.T) {
	t.Parallel()
	h := start(t)
	mine, theirs := h.newShop(t), h.newShop(t)
	theirs.Stock(t, "SECRET", 7)
	hold := theirs.Hold(t, 0, 1, "SECRET")
	b := signedIn(t, h.url, mine.key)
	csrf := b.formCSRF(mine.ID)
	for _, path := range []string{"/", "/stock", "/stock/line?sku=SECRET&variant=", "/holds?q=" + hold.ID, "/holds/" + hold.ID, "/changes", "/alerts"} {
		p := b.get("/console/s/" + theirs.ID + path)
		requireStatus(t, p, http.StatusNotFound)
		requireLacks(t, p, "SECRET", hold.ID, "/console/s/"+theirs.ID)
	}
	p := b.post("/console/s/"+theirs.ID+"/changes/receive", url.Values{
		"csrf": {csrf}, "purchaseOrderId": {"po"}, "items[0].sku": {"SECRET"}, "items[0].quantity": {"5"},
	})
	requireStatus(t, p, http.StatusNotFound)
	if got := theirs.Info(t, "SECRET", "").OnHand; got != 7 {
		t.Fatalf("their on hand %d, want 7", got)
	}
	// An unknown shop answers the same.
	requireStatus(t, b.get("/console/s/no-such-shop/"), http.StatusNotFound)
}

func TestServiceTokenPicksAnyShop(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	b := signedIn(t, h.url, serviceToken)
	picker := b.get("/console/")
	requireStatus(t, picker, http.StatusOK)
	requireContains(t, picker, "pick a shop", "(service)")
	// The picker pages in id order; the shop is on the page that starts
	// just before it.
	before := s.ID[:len(s.ID)-1]
	requireContains(t, b.get("/console/?after="+url.QueryEscape(before)), "/console/s/"+s.ID+"/")
	requireStatus(t, b.get("/console/s/"+s.ID+"/"), http.StatusOK)
	requireStatus(t, b.get("/console/s/no-such-shop/"), http.StatusNotFound)
}

func TestRevokedKeyEndsSession(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	b := signedIn(t, h.url, s.key)
	requireStatus(t, b.get("/console/s/"+s.ID+"/"), http.StatusOK)
	if err := h.keys.Revoke(context.Background(), s.ID, s.keyID); err != nil {
		t.Fatal(err)
	}
	p := b.get("/console/s/" + s.ID + "/")
	requireStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.location, "/console/signin") {
		t.Fatalf("redirect to %q, want the sign-in page", p.location)
	}
}

func TestForgedSessionRefused(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	b := signedIn(t, h.url, s.key)
	u, _ := url.Parse(h.url + "/console/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name != "checkoutd_console" {
			continue
		}
		// Claim the service: the signature no longer matches.
		body, sig, _ := strings.Cut(c.Value, ".")
		forged := strings.TrimSuffix(body, "fQ") + "LCJzdmMiOnRydWV9" + "." + sig
		b.client.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: forged, Path: "/console/"}})
	}
	requireStatus(t, b.get("/console/"), http.StatusSeeOther)
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	b := signedIn(t, h.url, s.key)
	requireStatus(t, b.post("/console/signout", url.Values{"csrf": {"forged"}}), http.StatusForbidden)
	requireStatus(t, b.get("/console/s/"+s.ID+"/"), http.StatusOK)
	p := b.post("/console/signout", url.Values{"csrf": {b.formCSRF(s.ID)}})
	requireStatus(t, p, http.StatusSeeOther)
	requireStatus(t, b.get("/console/s/"+s.ID+"/"), http.StatusSeeOther)
}

func TestSafeRedirectAfterSignIn(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	for next, want := range map[string]string{
		"/console/s/" + s.ID + "/stock": "/console/s/" + s.ID + "/stock",
		"https://evil.example/":         "/console/",
		"//evil.example/console/":       "/console/",
	} {
		b := newBrowser(t, h.url)
		form := b.get("/console/signin?next=" + url.QueryEscape(next))
		p := b.post("/console/signin", url.Values{"csrf": {form.csrf(t)}, "token": {s.key}, "next": {next}})
		if p.location != want {
			t.Errorf("next %q: redirected to %q, want %q", next, p.location, want)
		}
	}
}
