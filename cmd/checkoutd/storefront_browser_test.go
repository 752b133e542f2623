package main

// The storefront example in headless Chromium (Debian's chromium, installed
// by make test) through chromedp, served by a real checkoutd dev: the page
// shows the demo shop's badges, and a hold placed through the API turns
// "Only 3 left" into "Only 2 left" within a second, without a reload.

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/internal/testkit"
)

// chromium finds the browser, or skips: go test without make test may run
// where none is installed.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("no chromium: make test installs Debian's (apt-get install -y chromium)")
	return ""
}

// newTab starts a fresh headless Chromium with a profile of its own and
// returns a tab in it.
func newTab(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	return ctx
}

// startDev runs checkoutd dev in-process on a free port and returns its
// base URL once it answers; it stops when the test ends.
func startDev(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	setEnv(t, map[string]string{
		"DATABASE_URL": testdb.URL(t), "HTTP_ADDR": addr, "LOG_LEVEL": "error",
		// A key of its own keeps dev from starting stripe-mock: no checkout
		// session is made here.
		"STRIPE_SECRET_KEY": "sk_test_storefront",
	})
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testkit.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"dev"}, &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("checkoutd dev exited %d: %s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("checkoutd dev did not stop within 30 s of its signal")
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case code := <-done:
			t.Fatalf("checkoutd dev exited %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkoutd dev did not get ready: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if want := "Storefront: " + base + storefrontPath; !strings.Contains(stdout.String(), want) {
		t.Errorf("the banner does not say %q:\n%s", want, stdout.String())
	}
	return base
}

// badgeOf is the JavaScript reading a line's badge text.
func badgeOf(line string) string {
	return `(document.querySelector('li[data-line="` + line + `"] .badge') || {}).textContent`
}

func TestStorefrontBadgeFollowsHolds(t *testing.T) {
	base := startDev(t)
	ctx := newTab(t)

	wait := func(line, text string, within time.Duration) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](badgeOf(line)+` === "`+text+`"`,
			chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(within)))
		if err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
			t.Fatalf("%s never showed %q within %s: %v\npage:\n%s", line, text, within, err, got)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+storefrontPath)); err != nil {
		t.Fatal(err)
	}
	// The seed's four states.
	wait("SHIRT-LINEN|size:L", "Only 3 left", 15*time.Second)
	wait("MUG-LOGO|", "In Stock", time.Second)
	wait("TOTE-CANVAS|", "Out of Stock", time.Second)
	wait("CAP-WOOL|", "Available for Backorder", time.Second)
	live, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("status").dataset.state === "live"`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || !live {
		t.Fatalf("the stream is not live: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`)); err != nil {
		t.Fatal(err)
	}

	// A hold through the API: the badge follows within a second.
	start := time.Now()
	hold := postJSON(t, base+"/api/inventory/shops/"+devShop+"/holds", `{"items":[{"sku":"SHIRT-LINEN","variantKey":"size:L","quantity":1}],"ttlSeconds":60}`)
	wait("SHIRT-LINEN|size:L", "Only 2 left", time.Second)
	took := time.Since(start)
	t.Logf("the badge changed %s after the hold was requested", took)
	if took > time.Second {
		t.Errorf("the badge took %s, want under 1 s", took)
	}
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.sameDocument === true`))
	if err != nil || !same {
		t.Errorf("the page reloaded (%v)", err)
	}

	// Releasing it brings the badge back.
	postJSON(t, base+"/api/inventory/shops/"+devShop+"/holds/"+hold["id"].(string)+"/release", `{}`)
	wait("SHIRT-LINEN|size:L", "Only 3 left", 2*time.Second)
}

// postJSON posts body with the dev service token and returns the decoded
// answer, failing the test unless it is a 2xx.
func postJSON(t *testing.T, url, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+devToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %v %v", url, resp.StatusCode, out, err)
	}
	return out
}
