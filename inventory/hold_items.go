package inventory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// ErrHoldInCheckout is returned when changing the lines of an active hold
// that is bound to a checkout session: the session sells what the hold held
// when it was created, so the lines stay as they are.
var ErrHoldInCheckout = errors.New("hold is in checkout")

// SetHoldItemsRequest asks for a hold's lines to become exactly Items.
type SetHoldItemsRequest struct {
	Items []Line
	// TTL, when not zero, extends the hold as Extend does, in the same
	// step as its lines change.
	TTL time.Duration
	// ExpiresIn, when not zero, sets the hold to expire that long from now,
	// as a hold placed now would, sooner or later than before: a checkout
	// adopting a cart's hold gives it a checkout's expiry. It cannot be
	// combined with TTL.
	ExpiresIn time.Duration
	// ForCheckout tells that a checkout is adopting the hold: from then on
	// only checkouts change its lines, so that a cart's change in the
	// moments before its Stripe session is bound cannot leave the hold
	// holding other lines than the session sells. Which checkout has the
	// hold is the checkout package's to keep.
	ForCheckout bool
	// CustomerKey names the buyer, as ReserveRequest.CustomerKey: lines
	// with a per-customer limit need it, and count the hold's new lines
	// in place of its old ones.
	CustomerKey string

	// perCustomer, set by SetHoldItems, tells that a line has a
	// per-customer limit, to be counted under the customer's lock.
	perCustomer bool
}

func (r SetHoldItemsRequest) validate(shopID string) error {
	var c checker
	c.shopID("shopId", shopID)
	c.lines("items", r.Items)
	if r.TTL != 0 && (r.TTL < time.Second || r.TTL > MaxTTLSeconds*time.Second || r.TTL%time.Second != 0) {
		c.add("ttlSeconds", "must be a whole number of seconds from 1 to %d", MaxTTLSeconds)
	}
	switch {
	case r.ExpiresIn != 0 && r.TTL != 0:
		c.add("ttlSeconds", "cannot be combined with an expiry set outright")
	case r.ExpiresIn != 0 && (r.ExpiresIn < time.Second || r.ExpiresIn > MaxTTLSeconds*time.Second || r.ExpiresIn%time.Second != 0):
		c.add("expiresIn", "must be a whole number of seconds from 1 to %d", MaxTTLSeconds)
	}
	if r.CustomerKey != "" && !ValidCustomerKey(r.CustomerKey) {
		c.add("customerKey", "must be 1 to %d printable characters", MaxCustomerKeyLen)
	}
	return c.err()
}

// resizeReference is the reference of the movements a change of a hold's
// lines writes, telling them apart from the hold's placing and closing.
const resizeReference = "resize"

// SetHoldItems makes an active hold's lines exactly req.Items (lines naming
// the same stock line are summed): what a line grows by is reserved by
// Reserve's rule (free stock location by location in priority order, then
// backorder room at the default location), what it shrinks by is given
// back from the allocations drawn last, backordered units first, and a
// line left out is released whole. Everything changes, with a RESERVATION
// or RELEASE movement per location for the difference only, or nothing
// does.
//
// It runs in a transaction of its own, not in the group-commit batcher: it
// locks the hold, then the stock rows of its old and new lines, in the
// order every path takes them.
//
// A shortfall is an *InsufficientStockError whose Available counts what the
// hold already has; a hold that is not active (or has lapsed) is a
// *HoldNotActiveError; an active hold bound to a checkout session, or
// adopted by a checkout (ForCheckout) when req is not a checkout's, is
// ErrHoldInCheckout. In each case nothing changed.
func (l *Ledger) SetHoldItems(ctx context.Context, shopID, holdID string, req SetHoldItemsRequest) (*Hold, error) {
	if err := req.validate(shopID); err != nil {
		return nil, err
	}
	lines := mergeLines(req.Items)
	perCustomer, err := l.checkOrderLimits(ctx, shopID, lines, ReserveRequest{CustomerKey: req.CustomerKey})
	if err != nil {
		return nil, err
	}
	req.perCustomer = perCustomer
	hold, err := l.trySetHoldItems(ctx, shopID, holdID, lines, req)
	var short *InsufficientStockError
	_, bound := l.db.(pgx.Tx)
	if errors.As(err, &short) && !bound {
		// Lapsed holds the reaper has not closed yet may be all that is in
		// the way, as in Reserve: close them and try once more. A bound
		// Ledger leaves them, since its caller's transaction may already
		// hold locks that closing them would take out of order.
		keys := make([]lineKey, len(short.Lines))
		for i, s := range short.Lines {
			keys[i] = lineKey{s.SKU, s.VariantKey}
		}
		if err := l.expireLapsedOnLines(ctx, shopID, keys); err != nil {
			return nil, err
		}
		hold, err = l.trySetHoldItems(ctx, shopID, holdID, lines, req)
	}
	if errors.As(err, &short) {
		l.metrics.insufficientStock()
	}
	return hold, err
}

func (l *Ledger) trySetHoldItems(ctx context.Context, shopID, holdID string, lines []Line, req SetHoldItemsRequest) (*Hold, error) {
	var hold *Hold
	err := l.inBoundTx(ctx, func(b *Ledger) error {
		var err error
		hold, err = b.setHoldItems(ctx, shopID, holdID, lines, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return hold, nil
}

// setHoldItems is SetHoldItems' one attempt, on a Ledger bound to its
// transaction.
func (l *Ledger) setHoldItems(ctx context.Context, shopID, holdID string, lines []Line, req SetHoldItemsRequest) (*Hold, error) {
	hash := customerHash(shopID, req.CustomerKey)
	if req.perCustomer {
		// The customer's lock comes before the hold's: customer, holds,
		// stock is the order (see reserveForCustomer).
		if err := l.lockCustomer(ctx, shopID, hash); err != nil {
			return nil, err
		}
		if err := l.checkCustomerLimits(ctx, shopID, hash, lines, holdID); err != nil {
			return nil, err
		}
	}
	row, err := l.queries.LockHoldForItems(ctx, l.db, db.LockHoldForItemsParams{ShopID: shopID, ID: holdID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrHoldNotFound
	}
	if err != nil {
		return nil, l.dbError("lock hold", err)
	}
	status := reportedStatus(row.Status, row.Lapsed, row.Expiring)
	switch {
	case status != HoldActive || row.PastExpiry:
		if status == HoldActive {
			status = HoldExpired
		}
		return nil, &HoldNotActiveError{HoldID: holdID, Status: status}
	case row.CheckoutSessionID != nil, row.CheckoutClaimed && !req.ForCheckout:
		return nil, ErrHoldInCheckout
	}
	allocs, err := l.queries.ListHoldAllocations(ctx, l.db, db.ListHoldAllocationsParams{ShopID: shopID, HoldID: holdID})
	if err != nil {
		return nil, l.dbError("get hold allocations", err)
	}
	plan, err := l.planHoldItems(ctx, shopID, holdID, lines, allocs)
	if err != nil {
		return nil, err
	}
	if len(plan.short.Lines) > 0 {
		return nil, &plan.short
	}
	if len(plan.write.Deltas) > 0 {
		n, err := l.queries.WriteHoldItems(ctx, l.db, plan.write)
		if err != nil {
			return nil, l.dbError("set hold items", err)
		}
		if n != int64(len(plan.write.Deltas)) {
			// The rows were locked before they were read: a plan made over
			// anything else is a bug, and writing it could oversell.
			return nil, fmt.Errorf("set hold items: %d of %d stock rows were as planned", n, len(plan.write.Deltas))
		}
	}
	switch {
	case req.TTL != 0:
		if _, err := l.queries.ExtendHold(ctx, l.db, db.ExtendHoldParams{
			ShopID: shopID, ID: holdID, TtlSeconds: int32(req.TTL / time.Second), MaxTtlSeconds: MaxTTLSeconds,
		}); err != nil {
			return nil, l.dbError("extend hold", err)
		}
	case req.ExpiresIn != 0:
		if err := l.queries.SetHoldExpiry(ctx, l.db, db.SetHoldExpiryParams{
			ShopID: shopID, ID: holdID, TtlSeconds: int32(req.ExpiresIn / time.Second),
		}); err != nil {
			return nil, l.dbError("set hold expiry", err)
		}
	}
	if req.ForCheckout && !row.CheckoutClaimed {
		if err := l.queries.ClaimHoldForCheckout(ctx, l.db, db.ClaimHoldForCheckoutParams{ShopID: shopID, ID: holdID}); err != nil {
			return nil, l.dbError("claim hold for checkout", err)
		}
	}
	if req.perCustomer {
		if err := l.recordCustomerHold(ctx, shopID, hash, holdID); err != nil {
			return nil, err
		}
	}
	hold, err := l.GetHold(ctx, shopID, holdID)
	if err != nil {
		return nil, err
	}
	l.log.InfoContext(ctx, "hold items set", "shop_id", shopID, "hold_id", holdID,
		"reserved", plan.reserved, "released", plan.released, "expires_at", hold.ExpiresAt)
	return hold, nil
}

// holdItemsPlan is what a change of a hold's lines comes to.
type holdItemsPlan struct {
	write              db.WriteHoldItemsParams
	short              InsufficientStockError
	reserved, released int64
}

// heldAt is a hold's allocation at one location of a line.
type heldAt struct {
	locationID            string
	quantity, backordered int64
}

// planHoldItems locks the stock rows of the hold's old and new lines and
// works out, line by line, what each allocation becomes.
func (l *Ledger) planHoldItems(ctx context.Context, shopID, holdID string, lines []Line, allocs []db.ListHoldAllocationsRow) (*holdItemsPlan, error) {
	// held is each old line's allocations in the order they were drawn:
	// (priority, location_id), as ListHoldAllocations returns them.
	held := make(map[lineKey][]heldAt)
	want := make(map[lineKey]int64, len(lines))
	var keys []lineKey
	for _, a := range allocs {
		k := lineKey{a.Sku, a.VariantKey}
		if held[k] == nil {
			keys = append(keys, k)
		}
		held[k] = append(held[k], heldAt{a.LocationID, a.Quantity, a.Backordered})
	}
	for _, ln := range lines {
		k := lineKey{ln.SKU, ln.VariantKey}
		want[k] = ln.Quantity
		if held[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b lineKey) int {
		return cmp.Or(cmp.Compare(a.sku, b.sku), cmp.Compare(a.variantKey, b.variantKey))
	})

	lock := db.LockGroupStockParams{HoldShopIds: []string{shopID}, HoldIds: []string{holdID}}
	read := db.ReadGroupStockParams{}
	for _, k := range keys {
		if _, ok := want[k]; ok {
			lock.ShopIds = append(lock.ShopIds, shopID)
			lock.Skus = append(lock.Skus, k.sku)
			lock.VariantKeys = append(lock.VariantKeys, k.variantKey)
		}
		read.ShopIds = append(read.ShopIds, shopID)
		read.Skus = append(read.Skus, k.sku)
		read.VariantKeys = append(read.VariantKeys, k.variantKey)
	}
	if err := l.queries.LockGroupStock(ctx, l.db, lock); err != nil {
		return nil, l.dbError("lock stock", err)
	}
	rows, err := l.queries.ReadGroupStock(ctx, l.db, read)
	if err != nil {
		return nil, l.dbError("read stock", err)
	}
	st := newGroupStock(rows)

	plan := &holdItemsPlan{write: db.WriteHoldItemsParams{ShopID: shopID, HoldID: holdID, Reference: resizeReference}}
	for _, k := range keys {
		line := st[shopLine{shopID, k}]
		have := held[k]
		var old int64
		for _, h := range have {
			old += h.quantity
		}
		delta := want[k] - old
		switch {
		case delta > 0:
			p := planLine(line, k.sku, k.variantKey, delta, l.cfg.DefaultLowStockThreshold)
			if !p.covered() {
				plan.short.Lines = append(plan.short.Lines, Shortfall{
					SKU: k.sku, VariantKey: k.variantKey, Requested: want[k], Available: old + p.available,
				})
				continue
			}
			for i, a := range p.allocs {
				if a.quantity <= 0 {
					continue
				}
				v := line.levels[i]
				now := heldAt{locationID: v.locationID}
				for _, h := range have {
					if h.locationID == v.locationID {
						now = h
					}
				}
				plan.add(k, v, now.quantity+a.quantity, now.backordered+a.backordered, a.quantity)
			}
			if p.net-delta <= p.threshold {
				plan.write.CheckSkus = append(plan.write.CheckSkus, k.sku)
				plan.write.CheckVariantKeys = append(plan.write.CheckVariantKeys, k.variantKey)
			}
		case delta < 0:
			plan.release(k, line, have, -delta)
		}
	}
	return plan, nil
}

// release gives back n units of a line the hold has in have: backordered
// units first, since they are promised beyond stock on hand, then units
// from the allocations drawn last.
func (plan *holdItemsPlan) release(k lineKey, line *groupLine, have []heldAt, n int64) {
	after := slices.Clone(have)
	for i := range after {
		b := min(n, after[i].backordered)
		after[i].quantity -= b
		after[i].backordered -= b
		n -= b
	}
	for i := len(after) - 1; i >= 0 && n > 0; i-- {
		t := min(n, after[i].quantity-after[i].backordered)
		after[i].quantity -= t
		n -= t
	}
	for i, a := range after {
		if d := a.quantity - have[i].quantity; d != 0 {
			plan.add(k, line.level(a.locationID), a.quantity, a.backordered, d)
		}
	}
}

// add records that the hold's allocation of line k at v becomes quantity
// (backordered of it), reserving delta more there.
func (plan *holdItemsPlan) add(k lineKey, v groupLevel, quantity, backordered, delta int64) {
	w := &plan.write
	w.Skus = append(w.Skus, k.sku)
	w.VariantKeys = append(w.VariantKeys, k.variantKey)
	w.LocationIds = append(w.LocationIds, v.locationID)
	w.Quantities = append(w.Quantities, quantity)
	w.Backordered = append(w.Backordered, backordered)
	w.Deltas = append(w.Deltas, delta)
	w.ReservedBefore = append(w.ReservedBefore, v.reserved)
	if delta > 0 {
		plan.reserved += delta
	} else {
		plan.released -= delta
	}
}

// level returns the line's row at a location. A hold's allocation always
// has one: stock rows are never deleted while something reserves them.
func (g *groupLine) level(locationID string) groupLevel {
	for _, v := range g.levels {
		if v.locationID == locationID {
			return v
		}
	}
	return groupLevel{locationID: locationID}
}
