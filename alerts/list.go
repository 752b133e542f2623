package alerts

import (
	"context"
	"time"

	"github.com/checkoutd/checkoutd/alerts/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/page"
	"github.com/checkoutd/checkoutd/inventory"
)

// Alert is a recorded alert with the state of its deliveries.
type Alert struct {
	// ID is the alert's id (alr_...).
	ID string `json:"id"`
	// Kind is low_stock, oversold, or digest: the one message that carried
	// a window's held alerts to the channels.
	Kind string `json:"kind"`
	// SKU, VariantKey, Available and Threshold describe a low_stock alert's
	// line when it was raised; null for oversold.
	SKU        *string `json:"sku"`
	VariantKey *string `json:"variantKey"`
	Available  *int64  `json:"available"`
	Threshold  *int64  `json:"threshold"`
	// OversoldID is an oversold alert's order; null for low_stock.
	OversoldID *string `json:"oversoldId"`
	// Message is the human text the channels received.
	Message string `json:"message"`
	// CreatedAt is when the alert was raised (UTC).
	CreatedAt time.Time `json:"createdAt"`
	// Held says the alert came over its shop's alert budget: it has no
	// deliveries of its own, and goes to the channels in a digest.
	Held bool `json:"held"`
	// DigestID is the digest that carried a held alert; null until it is
	// raised, and for alerts sent on their own.
	DigestID *string `json:"digestId"`
	// Deliveries are one per channel that was on when the alert was raised;
	// none for a held alert.
	Deliveries []DeliveryState `json:"deliveries"`
}

// DeliveryState is where one delivery of an alert stands.
type DeliveryState struct {
	// Channel is slack or webhook.
	Channel string `json:"channel"`
	// Status is pending, delivered or failed.
	Status string `json:"status"`
	// Attempts counts the attempts made.
	Attempts int `json:"attempts"`
	// LastError is the class of the last failed attempt's error (refused,
	// timeout, dns, tls, http_500, ...; see the Error* constants), null
	// once delivered. Never the detail: that is in the log.
	LastError *string `json:"lastError"`
	// DeliveredAt is when the channel answered 2xx (UTC).
	DeliveredAt *time.Time `json:"deliveredAt"`
}

// Page is a page of a shop's alerts, newest first.
type Page struct {
	Items []Alert `json:"items"`
	// NextCursor fetches the next page; nil on the last one.
	NextCursor *string `json:"nextCursor"`
}

// List returns a page of the shop's alerts, newest first, with their
// deliveries. limit is the page size, 1 to page.MaxLimit (0 means
// page.DefaultLimit); cursor is the NextCursor of the previous page, "" for
// the first.
//
// A bad shop id, limit or cursor is a *checkoutd.ValidationError; a shop
// that does not exist is checkoutd.ErrShopNotFound; a database that does not
// answer wraps inventory.ErrUnavailable.
func List(ctx context.Context, conn database.Executor, shopID string, limit int, cursor string) (*Page, error) {
	q := db.New()
	rows, next, err := inventory.ListShopPage(ctx, conn, "alerts", shopID, limit, cursor,
		func(after page.After, max int32) ([]db.ListAlertsRow, error) {
			rows, err := q.ListAlerts(ctx, conn, db.ListAlertsParams{ShopID: shopID, Before: after.CreatedAt, BeforeID: after.ID, Max: max})
			if err != nil {
				return nil, database.WrapError("list alerts", err)
			}
			return rows, nil
		},
		func(r db.ListAlertsRow) page.After { return page.After{CreatedAt: r.CreatedAt, ID: r.ID} })
	if err != nil {
		return nil, err
	}
	out := &Page{Items: make([]Alert, 0, len(rows)), NextCursor: next}
	if len(rows) == 0 {
		return out, nil
	}

	alertIDs := make([]string, len(rows))
	for i, r := range rows {
		alertIDs[i] = r.ID
	}
	deliveries, err := q.ListAlertDeliveries(ctx, conn, db.ListAlertDeliveriesParams{ShopID: shopID, AlertIds: alertIDs})
	if err != nil {
		return nil, database.WrapError("list alert deliveries", err)
	}
	byAlert := make(map[string][]DeliveryState, len(rows))
	for _, d := range deliveries {
		s := DeliveryState{Channel: d.Channel, Status: d.Status, Attempts: int(d.Attempts), LastError: d.LastErrorClass}
		if d.DeliveredAt != nil {
			at := d.DeliveredAt.UTC()
			s.DeliveredAt = &at
		}
		byAlert[d.AlertID] = append(byAlert[d.AlertID], s)
	}
	for _, r := range rows {
		a := Alert{
			ID: r.ID, Kind: r.Kind, SKU: r.Sku, VariantKey: r.VariantKey, Available: r.Available,
			Threshold: r.Threshold, OversoldID: r.OversoldID, Message: r.Message, CreatedAt: r.CreatedAt.UTC(),
			Held: r.Held, DigestID: r.DigestID, Deliveries: byAlert[r.ID],
		}
		if a.Deliveries == nil {
			a.Deliveries = []DeliveryState{}
		}
		out.Items = append(out.Items, a)
	}
	return out, nil
}
