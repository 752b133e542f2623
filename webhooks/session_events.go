package webhooks

import (
	"context"
	"time"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/webhooks/internal/db"
)

// RecordedEvent is a Stripe event as the inbox recorded it.
type RecordedEvent struct {
	ID         string
	Type       string
	APIVersion string
	// Outcome is what applying it did: a checkout.Outcome, or Duplicate.
	Outcome    string
	ReceivedAt time.Time
}

// maxSessionEvents bounds SessionEvents' answer: a session sees a handful.
const maxSessionEvents = 100

// SessionEvents returns the events recorded for one of the shop's Stripe
// Checkout Sessions, in the order they arrived: what moved its checkout
// and hold.
func SessionEvents(ctx context.Context, conn database.Executor, shopID, sessionID string) ([]RecordedEvent, error) {
	rows, err := db.New().ListSessionEvents(ctx, conn, db.ListSessionEventsParams{ShopID: shopID, StripeSessionID: sessionID, Max: maxSessionEvents})
	if err != nil {
		return nil, database.WrapError("list session events", err)
	}
	out := make([]RecordedEvent, len(rows))
	for i, r := range rows {
		out[i] = RecordedEvent{ID: r.ID, Type: r.Type, APIVersion: r.ApiVersion, Outcome: r.Outcome, ReceivedAt: r.ReceivedAt.UTC()}
	}
	return out, nil
}
