package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/console"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
	"github.com/checkoutd/checkoutd/jobs"
)

func TestOverview(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Stock(t, "MUG", 50)
	soon := s.Hold(t, 2*time.Minute, 1, "MUG")
	later := s.Hold(t, time.Hour, 1, "MUG")
	committed := s.Hold(t, time.Hour, 1, "MUG")
	s.Commit(t, committed.ID)
	released := s.Hold(t, time.Hour, 1, "MUG")
	s.Release(t, released.ID)

	b := signedIn(t, h.url, s.key)
	p := b.get("/console/s/" + s.ID + "/")
	requireStatus(t, p, http.StatusOK)
	requireContains(t, p,
		`<p class="big" id="in-flight">2</p>`, `<p class="big" id="expiring">1</p>`,
		`class="expiring-hold"><td><a href="/console/s/`+s.ID+`/holds/`+soon.ID+`">`,
		// One committed and one released of two closed.
		"Commit rate <strong class=\"rate-commit\">50.0%</strong>", "expiry rate <strong class=\"rate-expiry\">0.0%</strong>",
		"<svg role=\"img\"", `class="committed"`, `class="released"`,
		"INVENTORY_MODE", "reserve_ttl", "20m 00s",
		// The job queue is the service's.
		"sign in with the service token to see it")
	requireLacks(t, p, "/holds/"+later.ID, "INVENTORY BYPASS IS ON")
}

// A hold closed on Stripe's word that its session expired counts as expired,
// as one whose time ran out does; and a hold bound to a session is said to
// become expiring, not expired, when its countdown ends.
func TestOverviewStripeExpiries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := start(t)
	s := h.newShop(t)
	s.Stock(t, "MUG", 50)
	attach := func(holdID string) {
		t.Helper()
		if err := h.ledger.AttachSession(ctx, s.ID, holdID, "cs_test_"+holdID, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	sessionExpired := s.Hold(t, time.Hour, 1, "MUG")
	attach(sessionExpired.ID)
	if _, err := h.ledger.SessionClosed(ctx, s.ID, sessionExpired.ID, "session_expired"); err != nil {
		t.Fatal(err)
	}
	lapsed := s.Hold(t, time.Hour, 1, "MUG")
	inventorytest.MakeDue(t, h.pool, s.ID, lapsed.ID)
	// Releasing a lapsed hold expires it.
	s.Release(t, lapsed.ID)
	s.Commit(t, s.Hold(t, time.Hour, 1, "MUG").ID)
	s.Release(t, s.Hold(t, time.Hour, 1, "MUG").ID)
	bound := s.Hold(t, 2*time.Minute, 1, "MUG")
	attach(bound.ID)
	unbound := s.Hold(t, 2*time.Minute, 1, "MUG")

	p := signedIn(t, h.url, s.key).get("/console/s/" + s.ID + "/")
	requireStatus(t, p, http.StatusOK)
	requireContains(t, p,
		"expiry rate <strong class=\"rate-expiry\">50.0%</strong>", "(1 committed, 2 expired, 1 released; 6 placed)", `class="expired"`)
	for id, ended := range map[string]string{bound.ID: "expiring", unbound.ID: "expired"} {
		row := regexp.MustCompile(`(?s)/holds/` + id + `">.*?</tr>`).FindString(p.body)
		if !strings.Contains(row, `data-countdown="`+ended+`"`) {
			t.Errorf("the countdown of %s does not end %s:\n%s", id, ended, row)
		}
	}
}

func TestOverviewJobsForTheService(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	if _, err := h.jobs.Insert(context.Background(), jobs.CheckStockArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	p := signedIn(t, h.url, serviceToken).get("/console/s/" + s.ID + "/")
	requireStatus(t, p, http.StatusOK)
	requireContains(t, p, "<td>"+jobs.CheckStockArgs{}.Kind()+"</td>")
}

func TestBypassShownLoudly(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	base := serveConsole(t, h, console.Config{InventoryMode: checkoutd.ModeValidateOnly, HoldTTL: time.Hour, SkipInventoryValidation: true})
	b := signedIn(t, base, s.key)
	for _, path := range []string{"/", "/stock", "/changes"} {
		p := b.get("/console/s/" + s.ID + path)
		requireStatus(t, p, http.StatusOK)
		requireContains(t, p, `role="alert"><strong>INVENTORY BYPASS IS ON</strong>`, "validate_only", `<strong class="on">ON</strong>`)
	}
}

func TestStockList(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Location(t, "warehouse", 1)
	s.StockLine(t, "SHIRT", "size:M", "", 100)
	s.StockLine(t, "SHIRT", "size:S", "", 2)
	s.StockLine(t, "MUG", "", "warehouse", 40)
	if _, err := h.ledger.UpdateSettings(context.Background(), s.ID, "PREORDER", "", inventory.StockSettings{BackorderLimit: ptr(int64(5))}); err != nil {
		t.Fatal(err)
	}
	s.Hold(t, time.Hour, 2, "PREORDER")
	b := signedIn(t, h.url, s.key)
	base := "/console/s/" + s.ID + "/stock"

	all := b.get(base)
	requireStatus(t, all, http.StatusOK)
	requireContains(t, all, ">MUG</a>", ">SHIRT</a></th><td>size:M", "size:S", `<span class="badge low">Low stock</span>`)

	low := b.get(base + "?low=1")
	requireContains(t, low, "size:S", "PREORDER")
	requireLacks(t, low, "size:M", ">MUG<")

	search := b.get(base + "?q=shirt")
	requireContains(t, search, "size:M", "size:S")
	requireLacks(t, search, ">MUG<")

	requireContains(t, b.get(base+"?q=SIZE:s"), "size:S")

	at := b.get(base + "?location=warehouse")
	requireContains(t, at, ">MUG<")
	requireLacks(t, at, ">SHIRT<")

	back := b.get(base + "?backordered=1")
	requireContains(t, back, ">PREORDER<", `<span class="badge backorder">Backorder</span>`)
	requireLacks(t, back, ">SHIRT<", ">MUG<")

	bad := b.get(base + "?location=Not+A+Location&cursor=zzz")
	requireStatus(t, bad, http.StatusBadRequest)
	requireContains(t, bad, "That page link is not valid")
}

func TestStockListPages(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	changes := make([]inventory.StockChange, 60)
	for i := range changes {
		changes[i] = inventory.StockChange{SKU: fmt.Sprintf("SKU-%03d", i), Op: inventory.OpSet, Quantity: 100}
	}
	if _, err := h.ledger.Adjust(context.Background(), s.ID, inventory.AdjustRequest{Changes: changes}); err != nil {
		t.Fatal(err)
	}
	b := signedIn(t, h.url, s.key)
	first := b.get("/console/s/" + s.ID + "/stock")
	requireContains(t, first, ">SKU-000<", ">SKU-049<", `rel="next">Next lines`)
	requireLacks(t, first, ">SKU-050<")
	next := first.body[strings.Index(first.body, `<p><a href="`)+len(`<p><a href="`):]
	next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
	second := b.get(next)
	requireContains(t, second, ">SKU-050<", ">SKU-059<")
	requireLacks(t, second, ">SKU-049<", "Next lines")
}

func TestStockLinePage(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Location(t, "warehouse", 1)
	s.StockLine(t, "SHIRT", "size:M", "", 3)
	s.StockLine(t, "SHIRT", "size:M", "warehouse", 20)
	hold := s.Reserve(t, inventorytest.HoldOpts{Lines: []inventory.Line{{SKU: "SHIRT", VariantKey: "size:M", Quantity: 2}}})
	b := signedIn(t, h.url, s.key)
	p := b.get("/console/s/" + s.ID + "/stock/line?sku=SHIRT&variant=size%3AM")
	requireStatus(t, p, http.StatusOK)
	requireContains(t, p, "SHIRT size:M", "<td>warehouse</td><td class=\"num\">20</td>", "/holds/"+hold.ID,
		"RESERVATION", "ADJUSTMENT", `name="lowStockThreshold"`, "Receive stock")

	requireStatus(t, b.get("/console/s/"+s.ID+"/stock/line?sku=NOPE&variant="), http.StatusNotFound)
	requireStatus(t, b.get("/console/s/"+s.ID+"/stock/line?sku=bad%20sku&variant="), http.StatusBadRequest)
}

func TestStockSettingsForm(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Stock(t, "MUG", 10)
	b := signedIn(t, h.url, s.key)
	csrf := b.formCSRF(s.ID)
	path := "/console/s/" + s.ID + "/stock/line"
	form := func(threshold, safety, backorder string) url.Values {
		return url.Values{"csrf": {csrf}, "sku": {"MUG"}, "variant": {""},
			"lowStockThreshold": {threshold}, "safetyStock": {safety}, "backorderLimit": {backorder}}
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		field   string
		message string
	}{
		{"not a number", form("lots", "0", "0"), "lowStockThreshold", "must be a whole number"},
		{"negative", form("3", "-1", "0"), "safetyStock", "must be an integer from 0"},
	} {
		p := b.post(path, tc.form)
		requireStatus(t, p, http.StatusUnprocessableEntity)
		requireContains(t, p, tc.message, `value="`+tc.form.Get(tc.field)+`"`)
		if info := s.Info(t, "MUG", ""); info.LowStockThreshold != lowStockDefault || info.SafetyStock != 0 {
			t.Fatalf("%s: settings changed to %+v", tc.name, info)
		}
	}
	forged := form("3", "1", "0")
	forged.Set("csrf", "forged")
	requireStatus(t, b.post(path, forged), http.StatusForbidden)

	p := b.post(path, form("3", "1", "4"))
	requireStatus(t, p, http.StatusSeeOther)
	requireContains(t, b.get(p.location), "Settings saved.")
	if info := s.Info(t, "MUG", ""); info.LowStockThreshold != 3 || info.SafetyStock != 1 || info.BackorderLimit != 4 {
		t.Fatalf("settings %+v, want threshold 3, safety 1, backorder 4", info)
	}
}

func TestHoldSearchAndStory(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Stock(t, "MUG", 10)
	hold := s.Reserve(t, inventorytest.HoldOpts{Lines: []inventory.Line{{SKU: "MUG", Quantity: 3}}, Reference: "order-77"})
	s.Release(t, hold.ID)
	other := s.Reserve(t, inventorytest.HoldOpts{Lines: []inventory.Line{{SKU: "MUG", Quantity: 1}}, Reference: "order-77"})
	b := signedIn(t, h.url, s.key)

	found := b.get("/console/s/" + s.ID + "/holds?q=order-77")
	requireStatus(t, found, http.StatusOK)
	requireContains(t, found, hold.ID, other.ID, "No checkout found.")

	requireContains(t, b.get("/console/s/"+s.ID+"/holds?q=nothing-here"), "No hold found.")

	byID := b.get("/console/s/" + s.ID + "/holds?q=" + hold.ID)
	requireStatus(t, byID, http.StatusSeeOther)
	story := b.get(byID.location)
	requireStatus(t, story, http.StatusOK)
	requireContains(t, story, "<strong>Placed</strong>", "3 × ", "<strong>Released</strong>", "RESERVATION", "RELEASE", "order-77")

	requireStatus(t, b.get("/console/s/"+s.ID+"/holds/hold_nope"), http.StatusNotFound)
}

func TestAlertsPage(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	b := signedIn(t, h.url, s.key)
	p := b.get("/console/s/" + s.ID + "/alerts")
	requireStatus(t, p, http.StatusOK)
	requireContains(t, p, "No alerts.", "No oversold orders.")
	requireStatus(t, b.get("/console/s/"+s.ID+"/alerts?alerts=garbage"), http.StatusBadRequest)
}

func ptr[T any](v T) *T { return &v }
