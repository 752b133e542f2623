package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/checkoutd/checkoutd/internal/page"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// RentalStatus is where a rental's units are.
type RentalStatus string

// The statuses of a rental.
const (
	// RentalOut: some units are still out, and not yet due.
	RentalOut RentalStatus = "out"
	// RentalOverdue: some units are still out past the due date.
	RentalOverdue RentalStatus = "overdue"
	// RentalReturned: every unit has come back (returns of the hold).
	RentalReturned RentalStatus = "returned"
)

// Rental is a committed rental hold: what went out, when it is due back and
// what has come back.
type Rental struct {
	HoldID    string       `json:"holdId"`
	Reference string       `json:"reference"`
	DueAt     time.Time    `json:"dueAt"`
	Status    RentalStatus `json:"status"`
	// Outstanding is the units not yet returned, over every line.
	Outstanding int64        `json:"outstanding"`
	Items       []RentalItem `json:"items"`
	CreatedAt   time.Time    `json:"createdAt"`
}

// RentalItem is one line of a rental.
type RentalItem struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	// Quantity is what went out; Returned what came back of it.
	Quantity int64 `json:"quantity"`
	Returned int64 `json:"returned"`
}

// RentalsOptions selects a page of rentals.
type RentalsOptions struct {
	// Status, when set, keeps the rentals of that status.
	Status RentalStatus
	// Limit is the page size, 1 to 500 (default 100).
	Limit int
	// Cursor is the NextCursor of the previous page, "" for the first.
	Cursor string
}

// RentalPage is a page of rentals, newest first.
type RentalPage struct {
	Items      []Rental `json:"items"`
	NextCursor *string  `json:"nextCursor"`
}

// SetRentalDue records when a rental hold's units are due back, marking
// the hold a rental's. The rental checkout that holds it calls it, bound to
// the transaction that records its session on the checkout and the hold.
func (l *Ledger) SetRentalDue(ctx context.Context, shopID, holdID string, dueAt time.Time) error {
	if _, err := l.queries.SetRentalDue(ctx, l.db, db.SetRentalDueParams{ShopID: shopID, HoldID: holdID, DueAt: &dueAt}); err != nil {
		return l.dbError("set rental due", err)
	}
	return nil
}

// ListRentals returns a page of the shop's committed rental holds, newest
// first, each with its due date and the units not yet returned.
func (l *Ledger) ListRentals(ctx context.Context, shopID string, opts RentalsOptions) (*RentalPage, error) {
	switch opts.Status {
	case "", RentalOut, RentalOverdue, RentalReturned:
	default:
		var c checker
		c.add("status", "must be out, overdue or returned")
		return nil, c.err()
	}
	rows, next, err := ListShopPage(ctx, l.db, "rentals", shopID, opts.Limit, opts.Cursor,
		func(after page.After, max int32) ([]db.ListRentalsRow, error) {
			rows, err := l.queries.ListRentals(ctx, l.db, db.ListRentalsParams{
				ShopID: shopID, AfterCreatedAt: after.CreatedAt, AfterID: after.ID, Status: string(opts.Status), Max: max,
			})
			if err != nil {
				return nil, l.dbError("list rentals", err)
			}
			return rows, nil
		},
		func(r db.ListRentalsRow) page.After { return page.After{CreatedAt: r.CreatedAt, ID: r.ID} })
	if err != nil {
		return nil, err
	}
	out := &RentalPage{Items: make([]Rental, len(rows)), NextCursor: next}
	at := make(map[string]int, len(rows))
	holdIDs := make([]string, len(rows))
	for i, r := range rows {
		at[r.ID], holdIDs[i] = i, r.ID
		out.Items[i] = Rental{
			HoldID: r.ID, Reference: r.Reference, DueAt: r.DueAt.UTC(), Status: RentalStatus(r.Status),
			Outstanding: max(r.Sold-r.Returned, 0), Items: []RentalItem{}, CreatedAt: r.CreatedAt.UTC(),
		}
	}
	if len(rows) == 0 {
		return out, nil
	}
	lines, err := l.queries.ListRentalLines(ctx, l.db, db.ListRentalLinesParams{ShopID: shopID, HoldIds: holdIDs})
	if err != nil {
		return nil, l.dbError("list rental lines", err)
	}
	for _, ln := range lines {
		i, ok := at[ln.HoldID]
		if !ok {
			return nil, fmt.Errorf("list rental lines: hold %s is not on the page", ln.HoldID)
		}
		out.Items[i].Items = append(out.Items[i].Items, RentalItem{SKU: ln.Sku, VariantKey: ln.VariantKey, Quantity: ln.Sold, Returned: ln.Returned})
	}
	return out, nil
}
