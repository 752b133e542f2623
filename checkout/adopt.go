package checkout

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory"
)

// adopt makes the cart's hold req.HoldID the checkout's reservation, in one
// transaction: the checkout records the hold first (its row, then the
// hold's, the order every path takes them in), then the hold's lines become
// the checkout's and its expiry what a new checkout's hold's would be, and
// the cart can no longer change them (ForCheckout). A hold another
// checkout has already adopted fails the unique index checkouts_hold, so
// two checkouts never sell one hold; one the shop does not have fails the
// foreign key.
func (s *Service) adopt(ctx context.Context, req Request, checkoutID string) (*inventory.Hold, error) {
	var (
		hold  *inventory.Hold
		bound *inventory.Ledger
	)
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		err := s.queries.SetCheckoutHold(ctx, tx, db.SetCheckoutHoldParams{ShopID: req.ShopID, ID: checkoutID, HoldID: &req.HoldID})
		var pgErr *pgconn.PgError
		switch {
		case database.IsForeignKeyViolation(err):
			return inventory.ErrHoldNotFound
		case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "checkouts_hold":
			return inventory.ErrHoldInCheckout
		case err != nil:
			return database.WrapError("record the checkout's hold", err)
		}
		bound = s.ledger.WithTx(tx)
		hold, err = bound.SetHoldItems(ctx, req.ShopID, req.HoldID, inventory.SetHoldItemsRequest{
			Items: inventoryLines(req.storedLines()), ExpiresIn: s.cfg.HoldTTL, ForCheckout: true, CustomerKey: req.customerKey(),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	bound.Committed()
	return hold, nil
}
