// Package checkouttest is the checkout test kit: the checkout records and
// oversold orders of a shop as stored, which checkout's API does not offer
// (a checkout is read by Stripe's events, not by callers), for the tests
// of checkout and webhooks to check what a checkout's lifecycle recorded.
//
// It is imported only by _test files. It sits under checkout, the owner of
// the tables it reads, and reads them through checkout's own queries.
package checkouttest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// StoredCheckout is a checkout record as stored.
type StoredCheckout struct {
	ID              string
	Mode            string
	InventoryMode   string
	IdempotencyKey  *string
	HoldID          *string
	StripeSessionID *string
	StripeURL       *string
	ExpiresAt       *time.Time
	Status          checkout.Status
	PaymentIntentID *string
	UpdatedAt       time.Time
}

// Checkouts lists the shop's checkout records, oldest first.
func Checkouts(tb testing.TB, exec database.Executor, shopID string) []StoredCheckout {
	tb.Helper()
	rows, err := db.New().ListShopCheckouts(context.Background(), exec, shopID)
	if err != nil {
		tb.Fatalf("list checkouts of %s: %v", shopID, err)
	}
	out := make([]StoredCheckout, len(rows))
	for i, r := range rows {
		out[i] = StoredCheckout{
			ID: r.ID, Mode: r.Mode, InventoryMode: r.InventoryMode, IdempotencyKey: r.IdempotencyKey,
			HoldID: r.HoldID, StripeSessionID: r.StripeSessionID, StripeURL: r.StripeUrl,
			ExpiresAt: r.ExpiresAt, Status: checkout.Status(r.Status), PaymentIntentID: r.PaymentIntentID,
			UpdatedAt: r.UpdatedAt,
		}
	}
	return out
}

// OfSession returns the record of the checkout behind a Stripe session,
// failing the test if there is none.
func OfSession(tb testing.TB, exec database.Executor, shopID, sessionID string) StoredCheckout {
	tb.Helper()
	for _, c := range Checkouts(tb, exec, shopID) {
		if c.StripeSessionID != nil && *c.StripeSessionID == sessionID {
			return c
		}
	}
	tb.Fatalf("no checkout of session %s in %s", sessionID, shopID)
	return StoredCheckout{}
}

// Bought is what a checkout with adjustable lines was paid for, as the
// settler recorded it: each of its lines, in order, with the quantity sold
// (nil until it was paid), and why Stripe's line items were not trusted,
// when they were not.
func Bought(tb testing.TB, exec database.Executor, shopID, checkoutID string) (lines []inventory.Line, reviewReason *string) {
	tb.Helper()
	row, err := db.New().GetCheckoutBought(context.Background(), exec, db.GetCheckoutBoughtParams{ShopID: shopID, ID: checkoutID})
	if err != nil {
		tb.Fatalf("read what checkout %s was bought for: %v", checkoutID, err)
	}
	if row.Bought != nil {
		if err := json.Unmarshal(row.Bought, &lines); err != nil {
			tb.Fatalf("decode what checkout %s was bought for: %v", checkoutID, err)
		}
	}
	return lines, row.ReviewReason
}

// Snapshot is everything a Stripe event could change in the shop: its
// stock, holds and movements (inventorytest.Snapshot), checkouts and
// oversold orders, as one text that tests compare to say "nothing changed".
func Snapshot(tb testing.TB, exec database.Executor, shopID string) string {
	tb.Helper()
	orders, err := checkout.ListOversold(context.Background(), exec, shopID, 500, "")
	if err != nil {
		tb.Fatalf("snapshot of %s: %v", shopID, err)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "inventory %s\n", inventorytest.Snapshot(tb, exec, shopID))
	for _, c := range Checkouts(tb, exec, shopID) {
		fmt.Fprintf(&s, "checkout %s %s hold %s pi %s updated %s\n", c.ID, c.Status, deref(c.HoldID), deref(c.PaymentIntentID), c.UpdatedAt.Format(time.RFC3339Nano))
	}
	for _, o := range orders.Items {
		fmt.Fprintf(&s, "oversold %s of %s\n", o.ID, o.CheckoutID)
	}
	return s.String()
}

func deref(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}
