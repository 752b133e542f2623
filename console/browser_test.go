package console_test

// The browser tests drive the console in headless Chromium (Debian's
// chromium, installed by make test) through chromedp, as an operator
// would: sign in, find a low-stock line, receive stock through the form,
// see the badge clear and the movement appear; see an expiring hold on the
// overview, and its countdown end. They save a screenshot of each page under
// .artifacts/console/ (gitignored; CONSOLE_SCREENSHOTS moves it).

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
// returns a tab in it, w×h pixels.
func newTab(t *testing.T, w, h int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	return ctx
}

// screenshotDir is where the pages' screenshots go.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CONSOLE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", ".artifacts", "console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the whole page as name.png.
func screenshot(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		png, err := chromedp.FullScreenshot(100)(ctx, target)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, os.WriteFile(filepath.Join(screenshotDir(t), name+".png"), png, 0o644)
	}
}

// text reads the text of the first node sel matches.
func text(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// do runs steps in the tab, failing the test on the first error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserReceiveClearsLowStock(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.StockLine(t, "CUP-ENAMEL", "color:blue", "", 2)
	s.Stock(t, "MUG", 40)
	s.Stock(t, "PLATE", 60)
	expiring := s.Hold(t, 3*time.Minute, 1, "MUG")
	s.Hold(t, time.Hour, 2, "PLATE")
	committed := s.Hold(t, time.Hour, 1, "PLATE")
	s.Commit(t, committed.ID)
	ctx := newTab(t, 1280, 900)
	base := h.url + "/console/"

	do(t, ctx,
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		screenshot(t, "signin"),
		chromedp.SendKeys(chromedp.CSS(`#token`), s.key),
		chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`#in-flight`)),
		screenshot(t, "overview"),
	)
	if n, overview := text(t, ctx, `#expiring`), text(t, ctx, `main`); strings.TrimSpace(n) != "1" || !strings.Contains(overview, expiring.ID) {
		t.Fatalf("the overview shows %q expiring and does not name %s:\n%s", n, expiring.ID, overview)
	}

	// Find the low-stock line from the overview's tile.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`a[href$="/stock?low=1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.stock`)),
		screenshot(t, "stock"),
		chromedp.Click(chromedp.Search(`//a[text()="CUP-ENAMEL"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#receive-h`)),
		screenshot(t, "line-low"),
	)
	if state := text(t, ctx, `.line-state`); !strings.Contains(state, "Low stock") {
		t.Fatalf("the line's state %q, want Low stock", state)
	}

	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#r-po`), "PO-2024-17"),
		chromedp.SendKeys(chromedp.CSS(`#r-qty`), "48"),
		chromedp.Submit(chromedp.CSS(`#r-qty`)),
		chromedp.WaitVisible(chromedp.CSS(`#result-h`)),
		screenshot(t, "changes-result"),
	)
	if result := text(t, ctx, `#main`); !strings.Contains(result, "PURCHASE_ORDER") || !strings.Contains(result, "+48") {
		t.Fatalf("the receipt's result does not show its movement:\n%s", result)
	}
	do(t, ctx,
		chromedp.Click(chromedp.Search(`//section[@aria-labelledby="result-h"]//a[text()="CUP-ENAMEL"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ledger-h`)),
		screenshot(t, "line-restocked"),
	)
	if state := text(t, ctx, `.line-state`); strings.Contains(state, "Low stock") || !strings.Contains(state, "In stock") {
		t.Fatalf("after the receipt the line's state is %q, want In stock", state)
	}
	if ledger := text(t, ctx, `#ledger-h + div`); !strings.Contains(ledger, "PO-2024-17") || !strings.Contains(ledger, "console:"+s.keyID) {
		t.Fatalf("the ledger does not show the receipt by the console's key:\n%s", ledger)
	}

	// The other pages, for their screenshots, and a look at each.
	do(t, ctx,
		chromedp.Navigate(base+"s/"+s.ID+"/holds?q="+committed.ID),
		chromedp.WaitVisible(chromedp.CSS(`#story-h`)),
		screenshot(t, "hold-story"),
	)
	if story := text(t, ctx, `#main`); !strings.Contains(story, "Committed") || !strings.Contains(story, "SALE") {
		t.Fatalf("the hold's story lacks its commit:\n%s", story)
	}
	do(t, ctx,
		chromedp.Navigate(base+"s/"+s.ID+"/holds"),
		chromedp.WaitVisible(chromedp.CSS(`#hq`)),
		screenshot(t, "holds"),
		chromedp.Navigate(base+"s/"+s.ID+"/changes"),
		chromedp.WaitVisible(chromedp.CSS(`#transfer-form-h`)),
		screenshot(t, "changes"),
		chromedp.Navigate(base+"s/"+s.ID+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS(`#oversold-list-h`)),
		screenshot(t, "alerts"),
	)
}

// When a countdown on the overview runs out, a hold bound to a Stripe
// session reads expiring (it keeps its stock until Stripe closes the
// session), any other expired.
func TestBrowserCountdownEnds(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Stock(t, "MUG", 40)
	bound := s.Hold(t, 2*time.Minute, 1, "MUG")
	if err := h.ledger.AttachSession(context.Background(), s.ID, bound.ID, "cs_test_"+bound.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	unbound := s.Hold(t, 2*time.Minute, 1, "MUG")
	ctx := newTab(t, 1280, 900)
	do(t, ctx,
		chromedp.Navigate(h.url+"/console/signin"),
		chromedp.SendKeys(chromedp.CSS(`#token`), s.key),
		chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`#expiring`)),
		// As if the two minutes had passed, rather than waiting them out.
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("time[data-countdown]").forEach(function (el) { el.setAttribute("datetime", new Date(Date.now() - 1000).toISOString()); })`),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("time[data-countdown]")].every(function (el) { return !el.textContent.startsWith("in "); })`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("tr.expiring-hold")].map(function (r) { return [r.querySelector("a").textContent, r.querySelector("time").textContent]; }))`))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{bound.ID: "expiring", unbound.ID: "expired"}; !maps.Equal(got, want) {
		t.Fatalf("the countdowns ended as %v, want %v", got, want)
	}
}

func TestBrowserOnAPhone(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Stock(t, "MUG", 40)
	s.Hold(t, 2*time.Minute, 1, "MUG")
	// Headless Chromium keeps windows at least 500px wide: as narrow as it goes.
	ctx := newTab(t, 390, 844)
	do(t, ctx,
		chromedp.Navigate(h.url+"/console/signin"),
		chromedp.SendKeys(chromedp.CSS(`#token`), s.key),
		chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`#expiring`)),
		screenshot(t, "overview-phone"),
	)
	// Nothing wider than the screen: tables scroll within their box.
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow > 0 {
		t.Fatalf("the overview is %dpx wider than the screen", overflow)
	}
}
