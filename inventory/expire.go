package inventory

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// ExpiredHold is a hold the reaper closed, or moved to expiring.
type ExpiredHold struct {
	ShopID            string
	HoldID            string
	CheckoutSessionID *string
	// Expiring is set for a hold bound to a Stripe Checkout Session that
	// may still be paid: it keeps its stock, and its session must be
	// expired (the reaper enqueues that in the same transaction).
	Expiring bool
}

// ExpireDue works through up to batch open holds that are due at or before
// now, and returns them:
//   - an active hold bound to a Stripe session, past its expiry, becomes
//     expiring: it keeps its stock while Stripe is asked to close the page;
//   - any other hold past its expiry is expired, its units given back with
//     RELEASE movements;
//   - an expiring hold Stripe never answered for is expired SessionGrace
//     after its session's own expiry, when Stripe has closed the page itself.
//
// Holds locked by a commit or another reaper are skipped, so reapers can run
// side by side; call it until it returns fewer than batch.
func (l *Ledger) ExpireDue(ctx context.Context, now time.Time, batch int) ([]ExpiredHold, error) {
	var (
		expired    []ExpiredHold
		unanswered map[shopKey]bool
	)
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		expired, unanswered = nil, nil
		due, err := l.queries.LockDueHolds(ctx, tx, db.LockDueHoldsParams{Now: now, Max: int32(batch)})
		if err != nil {
			return err
		}
		var bound, lapsed shopHolds
		for _, d := range due {
			if d.Bound {
				bound.add(d.ShopID, d.ID)
			} else {
				lapsed.add(d.ShopID, d.ID)
			}
		}
		if len(bound.holdIDs) > 0 {
			marked, err := l.queries.MarkHoldsExpiring(ctx, tx, db.MarkHoldsExpiringParams{ShopIds: bound.shopIDs, HoldIds: bound.holdIDs, Now: now})
			if err != nil {
				return err
			}
			for _, m := range marked {
				expired = append(expired, ExpiredHold{ShopID: m.ShopID, HoldID: m.ID, CheckoutSessionID: m.CheckoutSessionID, Expiring: true})
			}
		}
		if room := batch - len(due); room > 0 {
			stale, err := l.queries.LockDueExpiringHolds(ctx, tx, db.LockDueExpiringHoldsParams{Now: now, Max: int32(room)})
			if err != nil {
				return err
			}
			unanswered = make(map[shopKey]bool, len(stale))
			for _, h := range stale {
				lapsed.add(h.ShopID, h.ID)
				unanswered[shopKey{h.ShopID, h.ID}] = true
			}
		}
		if len(lapsed.holdIDs) == 0 {
			return nil
		}
		closed, err := l.closeExpired(ctx, tx, lapsed.shopIDs, lapsed.holdIDs, now)
		if err != nil {
			return err
		}
		for _, c := range closed {
			expired = append(expired, ExpiredHold{ShopID: c.ShopID, HoldID: c.ID, CheckoutSessionID: c.CheckoutSessionID})
		}
		return nil
	})
	if err != nil {
		return nil, l.dbError("expire due holds", err)
	}
	l.recordExpired(ctx, expired, unanswered)
	return expired, nil
}

// shopHolds are holds named by parallel columns, as the queries take them.
type shopHolds struct {
	shopIDs, holdIDs []string
}

func (s *shopHolds) add(shopID, holdID string) {
	s.shopIDs = append(s.shopIDs, shopID)
	s.holdIDs = append(s.holdIDs, holdID)
}

// recordExpired counts and logs what ExpireDue did; unanswered are the
// expiring holds it expired because Stripe never answered for them.
func (l *Ledger) recordExpired(ctx context.Context, expired []ExpiredHold, unanswered map[shopKey]bool) {
	closed := 0
	for _, e := range expired {
		switch {
		case e.Expiring:
			l.log.DebugContext(ctx, "hold expiring: its stock stays held until Stripe closes the session", "shop_id", e.ShopID, "hold_id", e.HoldID)
			continue
		case unanswered[shopKey{e.ShopID, e.HoldID}]:
			l.log.WarnContext(ctx, "expiring hold released without Stripe's answer, past its session's own expiry", "shop_id", e.ShopID, "hold_id", e.HoldID)
		default:
			l.log.DebugContext(ctx, "hold expired", "shop_id", e.ShopID, "hold_id", e.HoldID)
		}
		closed++
	}
	l.metrics.holdsExpired(closed)
	if len(expired) > 0 {
		l.log.InfoContext(ctx, "holds expired", "count", closed, "expiring", len(expired)-closed)
	}
}

// expireLapsedOnLines closes the shop's lapsed holds that reserve any of the
// given lines. It waits for holds a reaper is closing at the same moment, so
// when it returns no lapsed hold counts against those lines any more.
func (l *Ledger) expireLapsedOnLines(ctx context.Context, shopID string, lines []lineKey) error {
	skus := make([]string, len(lines))
	variantKeys := make([]string, len(lines))
	for i, k := range lines {
		skus[i], variantKeys[i] = k.sku, k.variantKey
	}
	var closed []db.CloseHoldsRow
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		lapsed, err := l.queries.LockLapsedHoldsOnLines(ctx, tx, db.LockLapsedHoldsOnLinesParams{ShopID: shopID, Skus: skus, VariantKeys: variantKeys})
		if err != nil || len(lapsed) == 0 {
			return err
		}
		shopIDs := make([]string, len(lapsed))
		holdIDs := make([]string, len(lapsed))
		for i, h := range lapsed {
			shopIDs[i], holdIDs[i] = h.ShopID, h.ID
		}
		// The rows are locked and verified lapsed by the database's clock
		// (their stock no longer counts), and a lapsed hold cannot be
		// extended, so no expiry bound is needed.
		closed, err = l.closeExpired(ctx, tx, shopIDs, holdIDs, farFuture)
		return err
	})
	if err != nil {
		return l.dbError("expire lapsed holds", err)
	}
	l.metrics.holdsExpired(len(closed))
	for _, c := range closed {
		l.log.InfoContext(ctx, "hold expired", "shop_id", c.ShopID, "hold_id", c.ID, "by", "request")
	}
	return nil
}

// expireLapsed closes one hold that GetHold saw lapsed.
func (l *Ledger) expireLapsed(ctx context.Context, shopID, holdID string) error {
	op := &closeOp{arg: db.CloseHoldsParams{
		ShopIds: []string{shopID}, HoldIds: []string{holdID}, Status: string(HoldExpired), Reason: "expired", DueBefore: farFuture,
	}}
	if err := l.execAlone(ctx, op); err != nil {
		return l.dbError("expire lapsed hold", err)
	}
	l.metrics.holdsExpired(len(op.rows))
	for _, c := range op.rows {
		l.log.InfoContext(ctx, "hold expired", "shop_id", c.ShopID, "hold_id", c.ID, "by", "request")
	}
	return nil
}

func (l *Ledger) closeExpired(ctx context.Context, conn db.DBTX, shopIDs, holdIDs []string, dueBefore time.Time) ([]db.CloseHoldsRow, error) {
	return l.queries.CloseHolds(ctx, conn, db.CloseHoldsParams{
		ShopIds:   shopIDs,
		HoldIds:   holdIDs,
		Status:    string(HoldExpired),
		Reason:    "expired",
		DueBefore: dueBefore,
	})
}
