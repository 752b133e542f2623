package inventory

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// ExpiredHold is a hold the reaper closed.
type ExpiredHold struct {
	ShopID            string
	HoldID            string
	CheckoutSessionID *string
}

// ExpireDue closes up to batch open holds that lapsed at or before now,
// giving their units back with RELEASE movements, and returns them. Holds
// locked by a commit or another reaper are skipped, so reapers can run side by
// side; call it until it returns fewer than batch.
func (l *Ledger) ExpireDue(ctx context.Context, now time.Time, batch int) ([]ExpiredHold, error) {
	var expired []ExpiredHold
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		due, err := l.queries.LockDueHolds(ctx, tx, db.LockDueHoldsParams{Now: now, Max: int32(batch)})
		if err != nil || len(due) == 0 {
			return err
		}
		shopIDs := make([]string, len(due))
		holdIDs := make([]string, len(due))
		for i, d := range due {
			shopIDs[i], holdIDs[i] = d.ShopID, d.ID
		}
		closed, err := l.closeExpired(ctx, tx, shopIDs, holdIDs, now)
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
	l.recordExpired(ctx, expired)
	return expired, nil
}

// recordExpired counts and logs holds ExpireDue expired.
func (l *Ledger) recordExpired(ctx context.Context, expired []ExpiredHold) {
	l.metrics.holdsExpired(len(expired))
	if len(expired) > 0 {
		l.log.InfoContext(ctx, "holds expired", "count", len(expired))
	}
	for _, e := range expired {
		l.log.DebugContext(ctx, "hold expired", "shop_id", e.ShopID, "hold_id", e.HoldID)
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
		// The rows are locked and verified lapsed by the database's clock,
		// and a lapsed hold cannot be extended, so no expiry bound is needed.
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
	closed, err := l.closeExpired(ctx, l.db, []string{shopID}, []string{holdID}, farFuture)
	if err != nil {
		return l.dbError("expire lapsed hold", err)
	}
	l.metrics.holdsExpired(len(closed))
	for _, c := range closed {
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
