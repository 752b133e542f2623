package checkout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/page"
	"github.com/checkoutd/checkoutd/inventory"
)

// OversoldOrder is a paid order whose stock was gone when the payment
// arrived (see Oversold). It stays on record for people to resolve: refund
// the customer, or find the stock elsewhere.
type OversoldOrder struct {
	// ID is the record's id (ovs_...).
	ID string `json:"id"`
	// CheckoutID is the checkout the order was paid through.
	CheckoutID string `json:"checkoutId"`
	// StripeSessionID is the Stripe Checkout Session that was paid.
	StripeSessionID string `json:"stripeSessionId"`
	// PaymentIntentID is the session's payment intent, when the event named
	// one.
	PaymentIntentID *string `json:"paymentIntentId"`
	// EventID is the Stripe event that reported the payment.
	EventID string `json:"eventId"`
	// Lines are what the customer paid for.
	Lines []inventory.Line `json:"lines"`
	// Shortfall are the lines the stock could not cover, with what was left.
	Shortfall []inventory.Shortfall `json:"shortfall"`
	// RefundRequested says a refund of the payment was queued.
	RefundRequested bool `json:"refundRequested"`
	// CreatedAt is when the order was recorded (UTC).
	CreatedAt time.Time `json:"createdAt"`
}

// OversoldPage is a page of a shop's oversold orders, newest first.
type OversoldPage struct {
	Items []OversoldOrder `json:"items"`
	// NextCursor fetches the next page; nil on the last one.
	NextCursor *string `json:"nextCursor"`
}

// ListOversold returns a page of the shop's oversold orders, newest first.
// limit is the page size, 1 to page.MaxLimit (0 means page.DefaultLimit);
// cursor is the NextCursor of the previous page, "" for the first.
//
// A bad shop id, limit or cursor is a *checkoutd.ValidationError; a shop
// that does not exist is checkoutd.ErrShopNotFound; a database that does not
// answer wraps inventory.ErrUnavailable.
func ListOversold(ctx context.Context, conn database.Executor, shopID string, limit int, cursor string) (*OversoldPage, error) {
	rows, next, err := inventory.ListShopPage(ctx, conn, "oversold orders", shopID, limit, cursor,
		func(after page.After, max int32) ([]db.ListOversoldOrdersRow, error) {
			rows, err := db.New().ListOversoldOrders(ctx, conn, db.ListOversoldOrdersParams{
				ShopID: shopID, Before: after.CreatedAt, BeforeID: after.ID, Max: max,
			})
			if err != nil {
				return nil, database.WrapError("list oversold orders", err)
			}
			return rows, nil
		},
		func(r db.ListOversoldOrdersRow) page.After { return page.After{CreatedAt: r.CreatedAt, ID: r.ID} })
	if err != nil {
		return nil, err
	}

	out := &OversoldPage{Items: make([]OversoldOrder, 0, len(rows)), NextCursor: next}
	for _, r := range rows {
		o := OversoldOrder{
			ID: r.ID, CheckoutID: r.CheckoutID, StripeSessionID: r.StripeSessionID, PaymentIntentID: r.PaymentIntentID,
			EventID: r.EventID, Lines: []inventory.Line{}, Shortfall: []inventory.Shortfall{},
			RefundRequested: r.RefundRequested, CreatedAt: r.CreatedAt.UTC(),
		}
		if err := json.Unmarshal(r.Lines, &o.Lines); err != nil {
			return nil, fmt.Errorf("decode lines of oversold order %s: %w", r.ID, err)
		}
		if err := json.Unmarshal(r.Shortfall, &o.Shortfall); err != nil {
			return nil, fmt.Errorf("decode shortfall of oversold order %s: %w", r.ID, err)
		}
		out.Items = append(out.Items, o)
	}
	return out, nil
}
