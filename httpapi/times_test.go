package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// apiTimeFormat is how every time the API renders looks: RFC 3339, UTC,
// whole seconds.
var apiTimeFormat = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// assertAPITimes fails the test unless every field named *At in the body,
// however deep, is null or a time in apiTimeFormat, and returns how many
// times it checked.
func assertAPITimes(t testing.TB, what string, node any) int {
	t.Helper()
	n := 0
	switch v := node.(type) {
	case map[string]any:
		for key, value := range v {
			if strings.HasSuffix(key, "At") && value != nil {
				s, ok := value.(string)
				if !ok || !apiTimeFormat.MatchString(s) {
					t.Errorf("%s: %s is %v, want RFC 3339 UTC in whole seconds", what, key, value)
				}
				n++
				continue
			}
			n += assertAPITimes(t, what, value)
		}
	case []any:
		for _, value := range v {
			n += assertAPITimes(t, what, value)
		}
	}
	return n
}

// Holds, movements and checkout sessions render their times alike, in
// whole seconds, although the database keeps microseconds and Stripe
// seconds.
func TestTimesInWholeSeconds(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 50)
	holds := shopPath(shop, "/holds")

	check := func(what string, r *response, status, atLeast int) map[string]any {
		t.Helper()
		expect(t, r, status, "")
		if n := assertAPITimes(t, what, r.JSON); n < atLeast {
			t.Errorf("%s: %d times in %s, want at least %d", what, n, r.Raw, atLeast)
		}
		return r.Obj(t)
	}

	created := check("create hold", h.svc(t, http.MethodPost, holds, map[string]any{"items": []any{item("SKU-1", "", 1)}, "ttlSeconds": 600}), http.StatusCreated, 2)
	id := str(t, created, "id")
	check("get hold", h.svc(t, http.MethodGet, holds+"/"+id, nil), http.StatusOK, 2)
	extended := check("extend hold", h.svc(t, http.MethodPost, holds+"/"+id+"/extend", map[string]any{"ttlSeconds": 86400}), http.StatusOK, 2)
	if !timeField(t, extended, "expiresAt").After(timeField(t, created, "expiresAt")) {
		t.Errorf("extend: expiresAt %v not after %v", extended["expiresAt"], created["expiresAt"])
	}
	check("commit hold", h.svc(t, http.MethodPost, holds+"/"+id+"/commit", map[string]any{"reference": "order-1"}), http.StatusOK, 2)
	other := str(t, h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 2)}}), "id")
	check("release hold", h.svc(t, http.MethodPost, holds+"/"+other+"/release", map[string]any{}), http.StatusOK, 2)

	check("adjustment", h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{
		"changes": []any{map[string]any{"sku": "SKU-2", "op": "set", "quantity": 5}},
	}), http.StatusOK, 1)
	check("movements", h.svc(t, http.MethodGet, shopPath(shop, "/movements"), nil), http.StatusOK, 5)

	session := check("checkout session", h.createCheckout(t, checkoutBody(shop, checkoutItem("SKU-1", "", 1))), http.StatusCreated, 1)
	reservation := str(t, session, "reservationId")
	check("checkout's hold", h.svc(t, http.MethodGet, holds+"/"+reservation, nil), http.StatusOK, 2)
}
