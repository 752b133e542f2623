package checkout

import (
	"context"
	"fmt"
	"time"

	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
)

// StoredCheckout is a checkout record as stored: what the package's tests
// check Create and Settle recorded.
type StoredCheckout struct {
	ID              string
	Mode            string
	InventoryMode   string
	IdempotencyKey  *string
	HoldID          *string
	StripeSessionID *string
	StripeURL       *string
	ExpiresAt       *time.Time
	Status          Status
	PaymentIntentID *string
}

// StoredCheckouts lists the shop's checkout records, oldest first.
func StoredCheckouts(ctx context.Context, exec database.Executor, shopID string) ([]StoredCheckout, error) {
	rows, err := db.New().ListShopCheckouts(ctx, exec, shopID)
	if err != nil {
		return nil, fmt.Errorf("list checkouts of %s: %w", shopID, err)
	}
	out := make([]StoredCheckout, len(rows))
	for i, r := range rows {
		out[i] = StoredCheckout{
			ID: r.ID, Mode: r.Mode, InventoryMode: r.InventoryMode, IdempotencyKey: r.IdempotencyKey,
			HoldID: r.HoldID, StripeSessionID: r.StripeSessionID, StripeURL: r.StripeUrl,
			ExpiresAt: r.ExpiresAt, Status: Status(r.Status), PaymentIntentID: r.PaymentIntentID,
		}
	}
	return out, nil
}
