package inventory

import (
	"context"
	"time"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// ShopEntry is a shop as the service's shop picker lists it.
type ShopEntry struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Shops returns up to limit shops (1 to 500) in id order after the shop
// afterID ("" for the first page): every shop in the database, for callers
// acting for the service, never for a shop.
func (l *Ledger) Shops(ctx context.Context, afterID string, limit int) ([]ShopEntry, error) {
	var c checker
	limit = pageLimit(&c, limit)
	c.text("after", afterID, maxTextLen)
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.ListShops(ctx, l.db, db.ListShopsParams{AfterID: afterID, Max: int32(limit)})
	if err != nil {
		return nil, l.dbError("list shops", err)
	}
	out := make([]ShopEntry, len(rows))
	for i, r := range rows {
		out[i] = ShopEntry{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}
