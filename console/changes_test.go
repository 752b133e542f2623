package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/checkoutd/checkoutd/inventory"
)

// movementsBy counts the shop's movements that createdBy names.
func movementsBy(t *testing.T, h *harness, shopID, createdBy string) int {
	t.Helper()
	page, err := h.ledger.Movements(context.Background(), shopID, inventory.MovementsOptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range page.Items {
		if m.CreatedBy == createdBy {
			n++
		}
	}
	return n
}

func TestReceiptForm(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Stock(t, "MUG", 2)
	b := signedIn(t, h.url, s.key)
	csrf := b.formCSRF(s.ID)
	path := "/console/s/" + s.ID + "/changes/receive"
	form := url.Values{"csrf": {csrf}, "idempotencyKey": {"console-test-1"}, "purchaseOrderId": {"PO-9"},
		"items[0].sku": {"MUG"}, "items[0].variantKey": {""}, "items[0].locationId": {"default"}, "items[0].quantity": {"30"}}

	p := b.post(path, form)
	requireStatus(t, p, http.StatusOK)
	requireContains(t, p, "Done: 1 change applied", "PURCHASE_ORDER", "&#43;30", "PO-9", "console:"+s.keyID)
	if got := s.Info(t, "MUG", "").OnHand; got != 32 {
		t.Fatalf("on hand %d, want 32", got)
	}
	// Submitted twice (a double click, a reload): the first result again.
	requireContains(t, b.post(path, form), "Done: 1 change applied", "&#43;30")
	if got := s.Info(t, "MUG", "").OnHand; got != 32 {
		t.Fatalf("on hand %d after a resubmission, want 32", got)
	}
	if n := movementsBy(t, h, s.ID, "console:"+s.keyID); n != 1 {
		t.Fatalf("%d movements by the console's key, want 1", n)
	}
}

func TestChangeFormsRefuseBadInputAndChangeNothing(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Location(t, "warehouse", 1)
	s.Stock(t, "MUG", 5)
	s.Hold(t, 0, 4, "MUG")
	b := signedIn(t, h.url, s.key)
	csrf := b.formCSRF(s.ID)
	base := "/console/s/" + s.ID + "/changes/"
	for _, tc := range []struct {
		name string
		kind string
		form url.Values
		says []string
	}{
		{"quantity not a number", "receive", url.Values{"purchaseOrderId": {"PO"}, "items[0].sku": {"MUG"}, "items[0].quantity": {"ten"}},
			[]string{"must be a whole number", `value="ten"`}},
		{"no lines", "receive", url.Values{"purchaseOrderId": {"PO"}}, []string{"Fill in at least one line."}},
		{"no purchase order", "receive", url.Values{"items[0].sku": {"MUG"}, "items[0].quantity": {"1"}}, []string{"is required"}},
		// The good first row is not applied without the second.
		{"one bad row of two", "receive", url.Values{"purchaseOrderId": {"PO"}, "items[0].sku": {"MUG"}, "items[0].quantity": {"1"},
			"items[2].sku": {"bad sku!"}, "items[2].quantity": {"1"}}, []string{"Nothing was changed", `value="bad sku!"`}},
		{"below reserved", "adjust", url.Values{"changes[0].sku": {"MUG"}, "changes[0].op": {"decrement"}, "changes[0].type": {"DAMAGE"}, "changes[0].quantity": {"3"}},
			[]string{"MUG  at default", "below the 4 reserved", "Nothing was changed"}},
		{"unknown location", "adjust", url.Values{"changes[0].sku": {"MUG"}, "changes[0].locationId": {"moon"}, "changes[0].op": {"increment"}, "changes[0].type": {"ADJUSTMENT"}, "changes[0].quantity": {"3"}},
			[]string{`the shop has no location &#34;moon&#34;`}},
		{"transfer to itself", "transfer", url.Values{"fromLocationId": {"default"}, "toLocationId": {"default"}, "items[0].sku": {"MUG"}, "items[0].quantity": {"1"}},
			[]string{"must differ from fromLocationId"}},
		{"transfer of held stock", "transfer", url.Values{"fromLocationId": {"default"}, "toLocationId": {"warehouse"}, "items[0].sku": {"MUG"}, "items[0].quantity": {"2"}},
			[]string{"Nothing was changed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", csrf)
			p := b.post(base+tc.kind, tc.form)
			requireStatus(t, p, http.StatusUnprocessableEntity)
			requireContains(t, p, tc.says...)
			if info := s.Info(t, "MUG", ""); info.OnHand != 5 || len(info.Locations) != 1 {
				t.Fatalf("stock changed: %+v", info)
			}
		})
	}
	for _, kind := range []string{"receive", "adjust", "transfer"} {
		p := b.post(base+kind, url.Values{"csrf": {"forged"}, "purchaseOrderId": {"PO"}, "items[0].sku": {"MUG"}, "items[0].quantity": {"1"}})
		requireStatus(t, p, http.StatusForbidden)
	}
	if n := movementsBy(t, h, s.ID, "console:"+s.keyID); n != 0 {
		t.Fatalf("%d movements by the console, want none", n)
	}
}

func TestAdjustAndTransferForms(t *testing.T) {
	t.Parallel()
	h := start(t)
	s := h.newShop(t)
	s.Location(t, "warehouse", 1)
	s.Stock(t, "MUG", 10)
	b := signedIn(t, h.url, serviceToken)
	csrf := b.formCSRF(s.ID)
	base := "/console/s/" + s.ID + "/changes/"
	p := b.post(base+"adjust", url.Values{"csrf": {csrf}, "reference": {"stocktake"},
		"changes[0].sku": {"MUG"}, "changes[0].locationId": {"default"}, "changes[0].op": {"decrement"}, "changes[0].type": {"DAMAGE"}, "changes[0].quantity": {"2"}, "changes[0].notes": {"dropped"},
		"changes[1].sku": {"BOWL"}, "changes[1].locationId": {"warehouse"}, "changes[1].op": {"set"}, "changes[1].type": {"ADJUSTMENT"}, "changes[1].quantity": {"7"}})
	requireStatus(t, p, http.StatusOK)
	requireContains(t, p, "Done: 2 changes applied", "DAMAGE", "-2", "dropped", "&#43;7", "console:service")

	p = b.post(base+"transfer", url.Values{"csrf": {csrf}, "fromLocationId": {"default"}, "toLocationId": {"warehouse"}, "reference": {"rebalance"},
		"items[0].sku": {"MUG"}, "items[0].quantity": {"3"}})
	requireStatus(t, p, http.StatusOK)
	requireContains(t, p, "Done: 2 changes applied", "TRANSFER", "-3", "&#43;3")
	info := s.Info(t, "MUG", "")
	if info.OnHand != 8 || info.Locations[0].OnHand != 5 || info.Locations[1].OnHand != 3 {
		t.Fatalf("MUG %+v, want 5 at default and 3 at the warehouse", info)
	}
	if got := s.Info(t, "BOWL", "").OnHand; got != 7 {
		t.Fatalf("BOWL on hand %d, want 7", got)
	}
}
