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

// The range of a location's priority. Only the order of priorities
// matters, so a million places either side of the default location's 0 is
// room enough; the bound keeps every value far inside the int32 column,
// and gives an out-of-range number a clear answer instead of an overflow.
const (
	MinPriority = -1_000_000
	MaxPriority = 1_000_000
)

// ErrLocationNotFound is returned for a location id the shop does not have.
var ErrLocationNotFound = errors.New("location not found")

// Location is a place a shop keeps stock. Holds take stock from a shop's
// locations in ascending priority, then by id.
type Location struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Priority int32  `json:"priority"`
}

// LocationUpdate is a change to a location: nil fields keep their value.
type LocationUpdate struct {
	// Name is 1 to 255 characters.
	Name *string
	// Priority is MinPriority to MaxPriority. It orders the holds placed
	// after the change; stock already held stays where it was taken. It is
	// an int64 so that callers pass what they were given and any number out
	// of range is refused here, never wrapped on the way in.
	Priority *int64
}

// AddLocation adds a location to a shop and returns it. Holds take stock
// from locations in ascending priority, then by id; the default location
// has priority 0. An empty name names the location after its id. An id the
// shop already has is ErrLocationExists.
func (l *Ledger) AddLocation(ctx context.Context, shopID, id, name string, priority int64) (*Location, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.locationID("id", id)
	if name == "" {
		name = id
	} else {
		c.name("name", name)
	}
	c.priority("priority", priority)
	if err := c.err(); err != nil {
		return nil, err
	}
	row, err := l.queries.CreateLocation(ctx, l.db, db.CreateLocationParams{ShopID: shopID, ID: id, Name: name, Priority: int32(priority)})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("add location %q: %w", id, ErrLocationExists)
	case database.IsForeignKeyViolation(err):
		return nil, fmt.Errorf("add location %q: %w", id, checkoutd.ErrShopNotFound)
	case err != nil:
		return nil, l.dbError("add location", err)
	}
	l.log.InfoContext(ctx, "location added", "shop_id", shopID, "location_id", id, "priority", priority)
	return &Location{ID: row.ID, Name: row.Name, Priority: row.Priority}, nil
}

// ListLocations returns a shop's locations in the order holds take stock
// from them, or checkoutd.ErrShopNotFound.
func (l *Ledger) ListLocations(ctx context.Context, shopID string) ([]Location, error) {
	var c checker
	c.shopID("shopId", shopID)
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.ListLocations(ctx, l.db, shopID)
	if err != nil {
		return nil, l.dbError("list locations", err)
	}
	if len(rows) == 0 {
		// Every shop made by CreateShop has its default location.
		if err := l.requireShop(ctx, shopID); err != nil {
			return nil, err
		}
	}
	out := make([]Location, len(rows))
	for i, r := range rows {
		out[i] = Location{ID: r.ID, Name: r.Name, Priority: r.Priority}
	}
	return out, nil
}

// UpdateLocation changes the settings u sets and returns the location, or
// ErrLocationNotFound (checkoutd.ErrShopNotFound for an unknown shop). An
// update that sets nothing returns the location as it is.
func (l *Ledger) UpdateLocation(ctx context.Context, shopID, locationID string, u LocationUpdate) (*Location, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.locationID("locationId", locationID)
	if u.Name != nil {
		c.name("name", *u.Name)
	}
	if u.Priority != nil {
		c.priority("priority", *u.Priority)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	var priority *int32
	if u.Priority != nil {
		p := int32(*u.Priority)
		priority = &p
	}
	row, err := l.queries.UpdateLocation(ctx, l.db, db.UpdateLocationParams{ShopID: shopID, ID: locationID, Name: u.Name, Priority: priority})
	if errors.Is(err, pgx.ErrNoRows) {
		if err := l.requireShop(ctx, shopID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("location %q: %w", locationID, ErrLocationNotFound)
	}
	if err != nil {
		return nil, l.dbError("update location", err)
	}
	if u.Name != nil || u.Priority != nil {
		l.log.InfoContext(ctx, "location updated", "shop_id", shopID, "location_id", locationID, "priority", row.Priority)
	}
	return &Location{ID: row.ID, Name: row.Name, Priority: row.Priority}, nil
}

func (c *checker) priority(field string, v int64) {
	if v < MinPriority || v > MaxPriority {
		c.add(field, "must be an integer from %d to %d", MinPriority, MaxPriority)
	}
}
