package alerts

import (
	"context"
	"time"

	"github.com/checkoutd/checkoutd/alerts/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
)

// FailingDelivery is a delivery that failed for good, or is being retried
// after an error, with its alert.
type FailingDelivery struct {
	AlertID string
	Kind    string
	Message string
	// Raised is when the alert was raised (UTC).
	Raised time.Time
	DeliveryState
}

// FailingDeliveries returns up to limit of the shop's failing deliveries,
// newest alert first. Nothing failing is an empty list; the caller checks
// the shop.
func FailingDeliveries(ctx context.Context, conn database.Executor, shopID string, limit int) ([]FailingDelivery, error) {
	rows, err := db.New().ListFailingDeliveries(ctx, conn, db.ListFailingDeliveriesParams{ShopID: shopID, Max: int32(limit)})
	if err != nil {
		return nil, database.WrapError("list failing deliveries", err)
	}
	out := make([]FailingDelivery, len(rows))
	for i, r := range rows {
		out[i] = FailingDelivery{
			AlertID: r.AlertID, Kind: r.Kind, Message: r.Message, Raised: r.CreatedAt.UTC(),
			DeliveryState: DeliveryState{Channel: r.Channel, Status: r.Status, Attempts: int(r.Attempts), LastError: r.LastErrorClass},
		}
	}
	return out, nil
}
