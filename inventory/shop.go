package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// DefaultLocation is the location every shop has.
const DefaultLocation = "default"

// CreateShop creates a shop with its default location.
func (l *Ledger) CreateShop(ctx context.Context, id, name string) error {
	var c checker
	c.shopID("shopId", id)
	c.text("name", name, maxTextLen)
	if err := c.err(); err != nil {
		return err
	}
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		_, err := l.queries.CreateShop(ctx, tx, db.CreateShopParams{ID: id, Name: name})
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("create shop %q: %w", id, ErrShopExists)
		}
		if err != nil {
			return err
		}
		_, err = l.queries.CreateLocation(ctx, tx, db.CreateLocationParams{ShopID: id, ID: DefaultLocation, Name: "Default"})
		return err
	})
	if err != nil {
		if errors.Is(err, ErrShopExists) {
			return err
		}
		return l.dbError("create shop", err)
	}
	l.log.InfoContext(ctx, "shop created", "shop_id", id)
	return nil
}

// AddLocation adds a location to a shop. Holds take stock from locations in
// ascending priority, then by id; the default location has priority 0.
func (l *Ledger) AddLocation(ctx context.Context, shopID, id, name string, priority int32) error {
	var c checker
	c.shopID("shopId", shopID)
	c.locationID("locationId", id)
	c.text("name", name, maxTextLen)
	if err := c.err(); err != nil {
		return err
	}
	_, err := l.queries.CreateLocation(ctx, l.db, db.CreateLocationParams{ShopID: shopID, ID: id, Name: name, Priority: priority})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("add location %q: %w", id, ErrLocationExists)
	case database.IsForeignKeyViolation(err):
		return checkoutd.ErrShopNotFound
	case err != nil:
		return l.dbError("add location", err)
	}
	l.log.InfoContext(ctx, "location added", "shop_id", shopID, "location_id", id, "priority", priority)
	return nil
}

// requireShop returns checkoutd.ErrShopNotFound unless the shop exists. Operations call
// it only on their failure paths, to tell an unknown shop from missing stock.
func (l *Ledger) requireShop(ctx context.Context, shopID string) error {
	ok, err := l.queries.ShopExists(ctx, l.db, shopID)
	if err != nil {
		return l.dbError("look up shop", err)
	}
	if !ok {
		return checkoutd.ErrShopNotFound
	}
	return nil
}
