package inventory

import (
	"context"
	"time"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// HoldsInFlight is what a shop's open holds look like now.
type HoldsInFlight struct {
	// InFlight counts open holds that still hold stock.
	InFlight int64
	// EndingSoon counts those whose expiry comes within the window asked
	// for, and Soonest lists them, soonest first (up to the limit asked for).
	EndingSoon int64
	Soonest    []HoldSummary
	// AwaitingStripe counts holds past their expiry that keep their stock
	// while Stripe is asked to close their Checkout Session (expiring). A
	// number that keeps growing means Stripe is not answering.
	AwaitingStripe int64
	// Lapsed counts open holds that no longer hold stock and that the
	// reaper has not closed yet. A number that keeps growing means the
	// reaper is not running.
	Lapsed int64
}

// HoldsInFlight counts the shop's open holds and lists up to limit of those
// expiring within the next within.
func (l *Ledger) HoldsInFlight(ctx context.Context, shopID string, within time.Duration, limit int) (*HoldsInFlight, error) {
	var c checker
	c.shopID("shopId", shopID)
	if within < time.Second || within > MaxTTLSeconds*time.Second {
		c.add("within", "must be from 1 second to %d seconds", MaxTTLSeconds)
	}
	limit = pageLimit(&c, limit)
	if err := c.err(); err != nil {
		return nil, err
	}
	secs := int32(within / time.Second)
	counts, err := l.queries.CountOpenHolds(ctx, l.db, db.CountOpenHoldsParams{ShopID: shopID, WithinSeconds: secs})
	if err != nil {
		return nil, l.dbError("count open holds", err)
	}
	out := &HoldsInFlight{InFlight: counts.InFlight, EndingSoon: counts.EndingSoon, AwaitingStripe: counts.AwaitingStripe,
		Lapsed: counts.Lapsed, Soonest: []HoldSummary{}}
	if counts.EndingSoon == 0 {
		return out, nil
	}
	rows, err := l.queries.ListHoldsEndingSoon(ctx, l.db, db.ListHoldsEndingSoonParams{ShopID: shopID, WithinSeconds: secs, Max: int32(limit)})
	if err != nil {
		return nil, l.dbError("list holds ending soon", err)
	}
	for _, r := range rows {
		out.Soonest = append(out.Soonest, HoldSummary{ID: r.ID, Status: HoldStatus(r.Status), ExpiresAt: r.ExpiresAt.UTC(),
			Reference: r.Reference, CheckoutSessionID: r.CheckoutSessionID, CreatedAt: r.CreatedAt.UTC()})
	}
	return out, nil
}

// LineHold is an open hold on one stock line and what it holds of it.
type LineHold struct {
	HoldSummary
	Quantity    int64
	Backordered int64
}

// LineHolds returns up to limit open holds on a stock line, soonest expiry
// first. Lapsed holds the reaper has not closed yet are included, reported
// as expired.
func (l *Ledger) LineHolds(ctx context.Context, shopID, sku, variantKey string, limit int) ([]LineHold, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.sku("sku", sku)
	c.variantKey("variantKey", variantKey)
	limit = pageLimit(&c, limit)
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.ListLineOpenHolds(ctx, l.db, db.ListLineOpenHoldsParams{ShopID: shopID, Sku: sku, VariantKey: variantKey, Max: int32(limit)})
	if err != nil {
		return nil, l.dbError("list line holds", err)
	}
	out := make([]LineHold, len(rows))
	for i, r := range rows {
		out[i] = LineHold{
			HoldSummary: HoldSummary{ID: r.ID, Status: reportedStatus(r.Status, r.Lapsed, r.Expiring), ExpiresAt: r.ExpiresAt.UTC(),
				Reference: r.Reference, CheckoutSessionID: r.CheckoutSessionID, CreatedAt: r.CreatedAt.UTC()},
			Quantity: r.Quantity, Backordered: r.Backordered,
		}
	}
	return out, nil
}
