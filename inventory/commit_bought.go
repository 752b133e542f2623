package inventory

import (
	"context"
	"fmt"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// CommitBought turns an open hold into a sale of what the customer bought
// of it, which may be less than it holds: a checkout whose customer could
// change quantities on Stripe's page holds each such line's maximum and is
// paid for what Stripe's line items say. The bought units leave on_hand and
// reserved together, with a SALE movement per allocation; the rest is given
// back, with a RELEASE movement per allocation (reference "not_bought").
// The committed hold's items are then what it sold. A line of the hold that
// bought does not name was not bought; lines naming the same stock line are
// summed. Of each line the hold's free units sell first, in location
// priority order, then its backordered ones: what goes back is backorders
// first.
//
// All of it happens in one statement, so a Ledger bound to a transaction
// (WithTx) commits it with the caller's work, and it never waits in a group.
// Committing a committed hold returns it unchanged, whatever bought says. A
// line asking for more than the hold holds of it is a
// *checkoutd.ValidationError and changes nothing; a released or expired
// hold, as for Commit, is a *HoldNotActiveError. An expiring hold commits.
func (l *Ledger) CommitBought(ctx context.Context, shopID, holdID string, bought []Line, reference string) (*Hold, error) {
	var c checker
	c.text("reference", reference, maxTextLen)
	if len(bought) > MaxItems {
		c.add("bought", "must have at most %d items", MaxItems)
	}
	for i, line := range bought {
		f := fmt.Sprintf("bought[%d]", i)
		c.sku(f+".sku", line.SKU)
		c.variantKey(f+".variantKey", line.VariantKey)
		c.quantity(f+".quantity", line.Quantity, 0)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	lines := mergeLines(bought)
	skus, variantKeys, quantities := lineColumns(lines)
	rows, err := l.queries.CommitBoughtHold(ctx, l.db, db.CommitBoughtHoldParams{
		ShopID: shopID, HoldID: holdID, Reference: reference,
		Skus: skus, VariantKeys: variantKeys, Quantities: quantities,
	})
	if err != nil {
		return nil, l.dbError("commit bought hold", err)
	}
	if len(rows) > 0 {
		hold := &Hold{
			ID:                holdID,
			ShopID:            shopID,
			Status:            HoldCommitted,
			ExpiresAt:         rows[0].ExpiresAt.UTC(),
			CreatedAt:         rows[0].CreatedAt.UTC(),
			CheckoutSessionID: rows[0].CheckoutSessionID,
			Reference:         rows[0].Reference,
			Items:             []HoldItem{},
		}
		if t := rows[0].CheckoutSessionExpiresAt; t != nil {
			u := t.UTC()
			hold.CheckoutSessionExpiresAt = &u
		}
		for _, r := range rows {
			if r.LocationID != "" {
				hold.addAllocation(r.Sku, r.VariantKey, Allocation{LocationID: r.LocationID, Quantity: r.Quantity, Backordered: r.Backordered})
			}
		}
		l.metrics.holdCommitted()
		l.log.InfoContext(ctx, "hold committed for what was bought", "shop_id", shopID, "hold_id", holdID, "reference", reference, "bought", lines)
		return hold, nil
	}
	hold, err := l.GetHold(ctx, shopID, holdID)
	if err != nil {
		return nil, err
	}
	switch hold.Status {
	case HoldCommitted:
		return hold, nil
	case HoldExpired:
		if err := l.expireLapsed(ctx, shopID, holdID); err != nil {
			return nil, err
		}
	}
	if !hold.Status.Open() {
		return nil, &HoldNotActiveError{HoldID: holdID, Status: hold.Status}
	}
	if err := boughtBeyondHold(hold, bought); err != nil {
		return nil, err
	}
	// Open and covering every line, yet not committed: it changed between
	// the statement and the read (it lapsed, or was closed and reported
	// open by a read that came later); its caller retries.
	return nil, fmt.Errorf("commit bought hold %s: the hold changed while it was committed: %w", holdID, &BusyError{RetryAfter: l.cfg.BusyRetryAfter})
}

// boughtBeyondHold names the lines of bought that ask for more than hold
// holds of them.
func boughtBeyondHold(hold *Hold, bought []Line) error {
	held := make(map[lineKey]int64, len(hold.Items))
	for _, it := range hold.Items {
		held[lineKey{it.SKU, it.VariantKey}] += it.Quantity
	}
	asked := make(map[lineKey]int64, len(bought))
	var c checker
	for i, line := range bought {
		k := lineKey{line.SKU, line.VariantKey}
		asked[k] += line.Quantity
		if asked[k] > held[k] {
			c.add(fmt.Sprintf("bought[%d].quantity", i), "is more than hold %s holds of %s[%s]: %d", hold.ID, line.SKU, line.VariantKey, held[k])
		}
	}
	return c.err()
}
