package checkout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// ovsShop creates a shop of the test's own and returns its id.
func ovsShop(t *testing.T) string {
	t.Helper()
	shop := testdb.ShopID(t)
	ledger := inventory.NewLedger(testdb.Pool(t), inventory.Config{Logger: slog.New(slog.DiscardHandler)})
	if _, err := ledger.CreateShop(context.Background(), shop, ""); err != nil {
		t.Fatal(err)
	}
	return shop
}

// ovsInsert records an oversold order by SQL, with the checkout it needs,
// created at the given time: raw SQL on purpose, as the paging rules need
// orders at chosen instants (ties included) that no API records.
func ovsInsert(t *testing.T, shop, id string, createdAt time.Time, refund bool) {
	t.Helper()
	ctx := context.Background()
	pool := testdb.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO checkouts (shop_id, id, mode, inventory_mode, request_hash, lines, stripe_session_id, status)
		VALUES ($1, $2, 'sale', 'validate_only', '\x00', '[{"sku":"A","variantKey":"","quantity":2}]', $3, 'oversold')`,
		shop, "chk_"+id, "cs_test_"+id)
	if err != nil {
		t.Fatalf("insert checkout: %v", err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO oversold_orders (shop_id, id, checkout_id, stripe_session_id, payment_intent_id, event_id, lines, shortfall, refund_requested, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, '[{"sku":"A","variantKey":"","quantity":2}]', '[{"sku":"A","variantKey":"","requested":2,"available":1}]', $7, $8)`,
		shop, id, "chk_"+id, "cs_test_"+id, "pi_"+id, "evt_"+id, refund, createdAt)
	if err != nil {
		t.Fatalf("insert oversold order: %v", err)
	}
}

func TestListOversoldPagesNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shop := ovsShop(t)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// Newest first: o9; o8, o7, o6 at one instant (a group larger than a
	// page of 2); o5; o4 and o3 at one instant (straddling a page
	// boundary); o2; o1.
	at := map[string]time.Time{
		"o1": base, "o2": base.Add(time.Second),
		"o3": base.Add(2 * time.Second), "o4": base.Add(2 * time.Second),
		"o5": base.Add(3 * time.Second),
		"o6": base.Add(4 * time.Second), "o7": base.Add(4 * time.Second), "o8": base.Add(4 * time.Second),
		"o9": base.Add(5*time.Second + 123456*time.Microsecond),
	}
	for id, ts := range at {
		ovsInsert(t, shop, id, ts, id == "o9")
	}

	for _, limit := range []int{1, 2, 3, 4, 100} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatalf("no end after %d pages: %v", pages, got)
				}
				page, err := checkout.ListOversold(ctx, testdb.Pool(t), shop, limit, cursor)
				if err != nil {
					t.Fatal(err)
				}
				if page.Items == nil {
					t.Fatal("items is nil, want an array")
				}
				for _, o := range page.Items {
					got = append(got, o.ID)
				}
				if page.NextCursor == nil {
					break
				}
				if len(page.Items) == 0 {
					t.Fatalf("an empty page with a next cursor")
				}
				cursor = *page.NextCursor
			}
			// Ties are ordered by id, descending.
			want := []string{"o9", "o8", "o7", "o6", "o5", "o4", "o3", "o2", "o1"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("pages gave %v, want %v", got, want)
			}
		})
	}

	page, err := checkout.ListOversold(ctx, testdb.Pool(t), shop, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	pi := "pi_o9"
	want := checkout.OversoldOrder{
		ID: "o9", CheckoutID: "chk_o9", StripeSessionID: "cs_test_o9", PaymentIntentID: &pi, EventID: "evt_o9",
		Lines:           []inventory.Line{{SKU: "A", Quantity: 2}},
		Shortfall:       []inventory.Shortfall{{SKU: "A", Requested: 2, Available: 1}},
		RefundRequested: true, CreatedAt: at["o9"],
	}
	if len(page.Items) != 1 || !reflect.DeepEqual(page.Items[0], want) {
		t.Errorf("first page %+v, want [%+v]", page.Items, want)
	}
	if page.NextCursor == nil {
		t.Fatal("no next cursor after the first of nine")
	}
	b, _ := json.Marshal(page.Items[0])
	var keys map[string]any
	_ = json.Unmarshal(b, &keys)
	for _, k := range []string{"id", "checkoutId", "stripeSessionId", "paymentIntentId", "eventId", "lines", "shortfall", "refundRequested", "createdAt"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON %s has no %q", b, k)
		}
	}
}

func TestListOversoldRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t)
	shop := ovsShop(t)

	page, err := checkout.ListOversold(ctx, pool, shop, 0, "")
	if err != nil || len(page.Items) != 0 || page.Items == nil || page.NextCursor != nil {
		t.Errorf("a shop without oversold orders: %+v, %v; want an empty page", page, err)
	}
	if _, err := checkout.ListOversold(ctx, pool, testdb.ShopID(t), 0, ""); !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("an unknown shop: %v, want ErrShopNotFound", err)
	}
	for _, tt := range []struct {
		shop, cursor, field string
		limit               int
	}{
		{shop: "Not A Shop", field: "shopId"},
		{shop: shop, limit: -1, field: "limit"},
		{shop: shop, limit: 501, field: "limit"},
		{shop: shop, cursor: "!!", field: "cursor"},
		{shop: shop, cursor: "bm90IGEgdGltZQ", field: "cursor"}, // "not a time"
	} {
		_, err := checkout.ListOversold(ctx, pool, tt.shop, tt.limit, tt.cursor)
		var invalid *checkoutd.ValidationError
		if !errors.As(err, &invalid) || len(invalid.Details) != 1 || invalid.Details[0].Field != tt.field {
			t.Errorf("ListOversold(%q, %d, %q) = %v, want a ValidationError on %s", tt.shop, tt.limit, tt.cursor, err, tt.field)
		}
	}
}

// TestListOversoldShowsWhatTheSettlerRecorded pays for a checkout whose
// stock is gone and finds the order in the list.
func TestListOversoldShowsWhatTheSettlerRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newSettleFixture(t, checkoutd.ModeValidateOnly)
	f.stock(t, "A", "size:M", 3)
	sess := f.checkoutFor(t, inventory.Line{SKU: "A", VariantKey: "size:M", Quantity: 2})
	f.stock(t, "A", "size:M", 1)

	if out := f.deliver(t, "evt_ovs", stripe.EventTypeCheckoutSessionCompleted, sess, "paid"); out != checkout.Oversold {
		t.Fatalf("settle = %s; want oversold", out)
	}

	page, err := checkout.ListOversold(ctx, f.pool, f.shopID, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.NextCursor != nil {
		t.Fatalf("page %+v, want one order", page)
	}
	o := page.Items[0]
	if o.StripeSessionID != sess.ID || o.EventID != "evt_ovs" || o.PaymentIntentID == nil || *o.PaymentIntentID != "pi_evt_ovs" ||
		!reflect.DeepEqual(o.Lines, []inventory.Line{{SKU: "A", VariantKey: "size:M", Quantity: 2}}) ||
		!reflect.DeepEqual(o.Shortfall, []inventory.Shortfall{{SKU: "A", VariantKey: "size:M", Requested: 2, Available: 1}}) ||
		o.CheckoutID == "" || time.Since(o.CreatedAt) > time.Minute || o.CreatedAt.Location() != time.UTC {
		t.Errorf("order %+v", o)
	}
}
