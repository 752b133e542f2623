package inventory

import (
	"cmp"
	"slices"
	"time"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// A group that places several holds does not run ReserveHold once per hold:
// that statement's cost is mostly the executor starting its dozen steps,
// paid again for every hold. The group reads the stock rows of all its
// holds once (ReadGroupStock, after locking them), works the holds out here
// in arrival order, each over the rows as the holds before it left them,
// and writes them all in one statement (PlaceGroupHolds). The arithmetic is
// ReserveHold's, step for step; TestGroupPlanMatchesReserveHold holds the
// two to the same answers, and the CHECK constraints of stock_levels stand
// behind both.

// groupStock is the group's copy of the stock rows its holds read, changed
// by each hold the group places.
type groupStock map[shopLine]*groupLine

// groupLine is one stock line as a group sees it.
type groupLine struct {
	safetyStock       int64
	lowStockThreshold *int64
	// levels are the line's rows in the order the line takes free stock
	// from them: (priority, location_id).
	levels []groupLevel
}

// groupLevel is one stock row: a line at a location.
type groupLevel struct {
	locationID     string
	onHand         int64
	reserved       int64
	backorderLimit int64
}

func newGroupStock(rows []db.ReadGroupStockRow) groupStock {
	st := make(groupStock)
	for _, r := range rows {
		key := shopLine{r.ShopID, lineKey{r.Sku, r.VariantKey}}
		line := st[key]
		if line == nil {
			line = &groupLine{safetyStock: r.SafetyStock, lowStockThreshold: r.LowStockThreshold}
			st[key] = line
		}
		line.levels = append(line.levels, groupLevel{
			locationID: r.LocationID, onHand: r.OnHand, reserved: r.Reserved, backorderLimit: r.BackorderLimit,
		})
	}
	return st
}

// linePlan is what one line of a hold gets: ReserveHold's "line", "free_take"
// and "alloc" for that line.
type linePlan struct {
	sku, variantKey string
	requested       int64
	// available is what the line could have had: free stock plus
	// backorder room.
	available int64
	// net is the line's unreserved stock less its safety stock, before the
	// hold; the low-stock check compares what it leaves with the threshold.
	net       int64
	threshold int64
	line      *groupLine
	// allocs is, per row of line.levels, what the hold takes there.
	allocs []levelAlloc
}

type levelAlloc struct {
	quantity, backordered int64
}

// planLine works out one line of a hold over the line's rows as they stand.
func planLine(line *groupLine, sku, variantKey string, quantity, defaultThreshold int64) linePlan {
	p := linePlan{sku: sku, variantKey: variantKey, requested: quantity, threshold: defaultThreshold, line: line}
	if line == nil {
		// No stock row: nothing free, no room to backorder.
		return p
	}
	if line.lowStockThreshold != nil {
		p.threshold = *line.lowStockThreshold
	}
	var unreserved, defaultRoom, backorderLimit int64
	for _, v := range line.levels {
		u := v.onHand - v.reserved
		unreserved += u
		backorderLimit += v.backorderLimit
		if v.locationID == DefaultLocation {
			defaultRoom += v.backorderLimit + min(u, 0)
		}
	}
	p.net = unreserved - line.safetyStock
	free := max(p.net, 0)
	backorderRoom := max(min(defaultRoom, backorderLimit+min(p.net, 0)), 0)
	p.available = free + backorderRoom

	// Free stock first, location by location in priority order, never
	// more than the line may sell without touching safety stock...
	p.allocs = make([]levelAlloc, len(line.levels))
	want := min(quantity, free)
	var before, taken int64
	for i, v := range line.levels {
		u := max(v.onHand-v.reserved, 0)
		take := min(u, max(want-before, 0))
		before += u
		taken += take
		p.allocs[i].quantity = take
	}
	// ...then what is still missing is backordered at the default
	// location, up to the room there is.
	for i, v := range line.levels {
		if v.locationID == DefaultLocation {
			b := min(quantity-taken, backorderRoom)
			p.allocs[i].quantity += b
			p.allocs[i].backordered = b
		}
	}
	return p
}

// covered reports whether the line's allocations add up to what it asks.
func (p *linePlan) covered() bool {
	var sum int64
	for _, a := range p.allocs {
		sum += a.quantity
	}
	return sum == p.requested
}

// groupPlan is what a group's holds come to: the rows each hold's Reserve
// reads, as ReserveHold would have returned them, and the statement that
// writes the holds placed.
type groupPlan struct {
	rows  [][]db.ReserveHoldRow
	write db.PlaceGroupHoldsParams
}

// placed is how many holds the plan places.
func (plan *groupPlan) placed() int { return len(plan.write.HoldIds) }

// shopKey names something of one shop by a string of its own: a hold by
// its id, or by its idempotency key.
type shopKey struct{ shopID, key string }

// planGroupHolds works out ops in order over st, which it changes as each
// hold is placed. A hold whose idempotency key is in taken, or was used by
// an earlier hold of the group, is not placed: its Reserve then finds the
// hold that has the key, as it does after ReserveHold's ON CONFLICT.
func planGroupHolds(ops []*reserveOp, st groupStock, taken map[shopKey]bool, defaultThreshold int64) *groupPlan {
	plan := &groupPlan{rows: make([][]db.ReserveHoldRow, len(ops))}
	w := &plan.write
	for n, op := range ops {
		arg := op.arg
		order := make([]int, len(arg.Skus))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int {
			return cmp.Or(cmp.Compare(arg.Skus[a], arg.Skus[b]), cmp.Compare(arg.VariantKeys[a], arg.VariantKeys[b]))
		})
		lines := make([]linePlan, len(order))
		ok := true
		for j, i := range order {
			line := st[shopLine{arg.ShopID, lineKey{arg.Skus[i], arg.VariantKeys[i]}}]
			lines[j] = planLine(line, arg.Skus[i], arg.VariantKeys[i], arg.Quantities[i], defaultThreshold)
			ok = ok && lines[j].covered()
		}
		var keyTaken bool
		if arg.IdempotencyKey != nil {
			key := shopKey{arg.ShopID, *arg.IdempotencyKey}
			keyTaken = taken[key]
			if ok && !keyTaken {
				taken[key] = true
			}
		}
		if !ok || keyTaken {
			for _, p := range lines {
				plan.rows[n] = append(plan.rows[n], db.ReserveHoldRow{
					Sku: p.sku, VariantKey: p.variantKey, Requested: p.requested, Available: p.available, Ok: ok,
				})
			}
			continue
		}

		w.HoldShopIds = append(w.HoldShopIds, arg.ShopID)
		w.HoldIds = append(w.HoldIds, arg.HoldID)
		w.TtlSeconds = append(w.TtlSeconds, arg.TtlSeconds)
		w.IdempotencyKeys = append(w.IdempotencyKeys, deref(arg.IdempotencyKey))
		w.HoldReferences = append(w.HoldReferences, arg.Reference)
		w.CheckoutModes = append(w.CheckoutModes, deref(arg.CheckoutMode))
		for _, p := range lines {
			for i, a := range p.allocs {
				if a.quantity <= 0 {
					continue
				}
				v := &p.line.levels[i]
				v.reserved += a.quantity
				plan.rows[n] = append(plan.rows[n], db.ReserveHoldRow{
					Sku: p.sku, VariantKey: p.variantKey, Requested: p.requested, Available: p.available,
					Ok: true, Placed: true, LocationID: v.locationID, Allocated: a.quantity, Backordered: a.backordered,
				})
				w.AllocShopIds = append(w.AllocShopIds, arg.ShopID)
				w.AllocHoldIds = append(w.AllocHoldIds, arg.HoldID)
				w.AllocSkus = append(w.AllocSkus, p.sku)
				w.AllocVariantKeys = append(w.AllocVariantKeys, p.variantKey)
				w.AllocLocationIds = append(w.AllocLocationIds, v.locationID)
				w.AllocQuantities = append(w.AllocQuantities, a.quantity)
				w.AllocBackordered = append(w.AllocBackordered, a.backordered)
				w.AllocReferences = append(w.AllocReferences, arg.Reference)
			}
			if p.net-p.requested <= p.threshold {
				w.CheckShopIds = append(w.CheckShopIds, arg.ShopID)
				w.CheckSkus = append(w.CheckSkus, p.sku)
				w.CheckVariantKeys = append(w.CheckVariantKeys, p.variantKey)
			}
		}
	}
	return plan
}

// stamp gives the rows of the holds ops placed the times the database set.
func (plan *groupPlan) stamp(ops []*reserveOp, written []db.PlaceGroupHoldsRow) {
	times := make(map[shopKey][2]time.Time, len(written))
	for _, h := range written {
		times[shopKey{h.ShopID, h.ID}] = [2]time.Time{h.ExpiresAt, h.CreatedAt}
	}
	for i := range plan.rows {
		for j := range plan.rows[i] {
			r := &plan.rows[i][j]
			if !r.Placed {
				continue
			}
			t := times[shopKey{ops[i].arg.ShopID, ops[i].arg.HoldID}]
			r.ExpiresAt, r.CreatedAt = t[0], t[1]
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
