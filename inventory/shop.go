package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/pgtext"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// DefaultLocation is the location every shop has.
const DefaultLocation = "default"

// defaultLocationName is the name CreateShop gives the default location.
const defaultLocationName = "Default"

// Shop is a shop, its settings and its locations.
type Shop struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// PublicAvailability says whether anyone, without a token, may read the
	// shop's availability (the public routes). Off until the shop turns it
	// on; those routes ask GetShop.
	PublicAvailability bool `json:"publicAvailability"`
	// RestockOnRefund says whether a full Stripe refund of a paid checkout
	// returns its units to stock (ReturnRemaining). Off until the shop
	// turns it on: a refund is not always a return.
	RestockOnRefund bool      `json:"restockOnRefund"`
	CreatedAt       time.Time `json:"createdAt"`
	// Locations are in the order holds take stock from them: ascending
	// priority, then id.
	Locations []Location `json:"locations"`
}

// ShopUpdate is a change to a shop's settings: nil fields keep their value.
type ShopUpdate struct {
	// Name is 1 to 255 characters.
	Name               *string
	PublicAvailability *bool
	RestockOnRefund    *bool
}

// CreateShop creates a shop with its default location and returns it. An
// empty name names the shop after its id. An id that is taken is
// ErrShopExists.
func (l *Ledger) CreateShop(ctx context.Context, id, name string) (*Shop, error) {
	var c checker
	c.shopID("id", id)
	if name == "" {
		name = id
	} else {
		c.name("name", name)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	var shop *Shop
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		row, err := l.queries.CreateShop(ctx, tx, db.CreateShopParams{ID: id, Name: name})
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("create shop %q: %w", id, ErrShopExists)
		}
		if err != nil {
			return err
		}
		loc, err := l.queries.CreateLocation(ctx, tx, db.CreateLocationParams{ShopID: id, ID: DefaultLocation, Name: defaultLocationName})
		if err != nil {
			return err
		}
		shop = &Shop{
			ID: row.ID, Name: row.Name, PublicAvailability: row.PublicAvailability, RestockOnRefund: row.RestockOnRefund,
			CreatedAt: row.CreatedAt.UTC(),
			Locations: []Location{{ID: loc.ID, Name: loc.Name, Priority: loc.Priority}},
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrShopExists) {
			return nil, err
		}
		return nil, l.dbError("create shop", err)
	}
	l.log.InfoContext(ctx, "shop created", "shop_id", id)
	return shop, nil
}

// GetShop returns a shop with its locations, or checkoutd.ErrShopNotFound.
func (l *Ledger) GetShop(ctx context.Context, shopID string) (*Shop, error) {
	var c checker
	c.shopID("shopId", shopID)
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.GetShop(ctx, l.db, shopID)
	if err != nil {
		return nil, l.dbError("get shop", err)
	}
	return shopFromRows(shopID, rows)
}

// UpdateShop changes the settings u sets and returns the shop, or
// checkoutd.ErrShopNotFound. An update that sets nothing changes nothing
// and returns the shop as it is, as a PATCH with an empty body does.
func (l *Ledger) UpdateShop(ctx context.Context, shopID string, u ShopUpdate) (*Shop, error) {
	var c checker
	c.shopID("shopId", shopID)
	if u.Name != nil {
		c.name("name", *u.Name)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	if u.Name == nil && u.PublicAvailability == nil && u.RestockOnRefund == nil {
		return l.GetShop(ctx, shopID)
	}
	rows, err := l.queries.UpdateShop(ctx, l.db, db.UpdateShopParams{
		ID: shopID, Name: u.Name, PublicAvailability: u.PublicAvailability, RestockOnRefund: u.RestockOnRefund,
	})
	if err != nil {
		return nil, l.dbError("update shop", err)
	}
	got := make([]db.GetShopRow, len(rows))
	for i, r := range rows {
		got[i] = db.GetShopRow(r)
	}
	shop, err := shopFromRows(shopID, got)
	if err != nil {
		return nil, err
	}
	attrs := []any{"shop_id", shopID}
	if u.PublicAvailability != nil {
		attrs = append(attrs, "public_availability", *u.PublicAvailability)
	}
	if u.RestockOnRefund != nil {
		attrs = append(attrs, "restock_on_refund", *u.RestockOnRefund)
	}
	if u.Name != nil {
		attrs = append(attrs, "name_changed", true)
	}
	l.log.InfoContext(ctx, "shop updated", attrs...)
	return shop, nil
}

// shopFromRows assembles a shop from GetShop's rows: none means it does not
// exist.
func shopFromRows(shopID string, rows []db.GetShopRow) (*Shop, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("shop %q: %w", shopID, checkoutd.ErrShopNotFound)
	}
	r := rows[0]
	shop := &Shop{
		ID: r.ID, Name: r.Name, PublicAvailability: r.PublicAvailability, RestockOnRefund: r.RestockOnRefund,
		CreatedAt: r.CreatedAt.UTC(),
		Locations: make([]Location, 0, len(rows)),
	}
	for _, r := range rows {
		if r.LocationID != nil {
			shop.Locations = append(shop.Locations, Location{ID: *r.LocationID, Name: *r.LocationName, Priority: *r.LocationPriority})
		}
	}
	return shop, nil
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

// name checks the name of a shop or location: text a person reads in
// lists, so not empty, and bounded like every other text a request stores.
func (c *checker) name(field, v string) {
	if v == "" || utf8.RuneCountInString(v) > maxTextLen || !pgtext.Valid(v) {
		c.add(field, "must be 1 to %d characters of valid UTF-8 text without NUL characters", maxTextLen)
	}
}
