package checkout

import (
	"context"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
)

// Record is a checkout as stored: what was asked for and where it stands.
type Record struct {
	ID            string
	Mode          string
	InventoryMode checkoutd.InventoryMode
	Status        Status
	// HoldID is the checkout's hold, nil if it has none.
	HoldID *string
	// StripeSessionID and PaymentIntentID are Stripe's, once known.
	StripeSessionID *string
	PaymentIntentID *string
	// ExpiresAt is when the Stripe session expires.
	ExpiresAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// maxFound bounds Find's answer.
const maxFound = 50

// Find returns the shop's checkouts that word names, by checkout id, hold
// id, Stripe Checkout Session id or PaymentIntent id, newest first (at most
// 50). Nothing found is an empty list; the caller checks the shop.
func Find(ctx context.Context, conn database.Executor, shopID, word string) ([]Record, error) {
	rows, err := db.New().FindCheckouts(ctx, conn, db.FindCheckoutsParams{ShopID: shopID, Word: word, Max: maxFound})
	if err != nil {
		return nil, database.WrapError("find checkouts", err)
	}
	out := make([]Record, len(rows))
	for i, r := range rows {
		out[i] = Record{
			ID: r.ID, Mode: r.Mode, InventoryMode: checkoutd.InventoryMode(r.InventoryMode), Status: Status(r.Status),
			HoldID: r.HoldID, StripeSessionID: r.StripeSessionID, PaymentIntentID: r.PaymentIntentID,
			ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		}
	}
	return out, nil
}
