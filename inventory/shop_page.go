package inventory

import (
	"context"
	"fmt"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/page"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// ListShopPage returns one page of a shop's list, newest first, by the
// paging rules every list of the API follows, for the packages that own
// such lists (alerts, oversold orders). It lives here because the shop and
// the validation vocabulary do.
//
// limit is the page size, 1 to page.MaxLimit (0 means page.DefaultLimit);
// cursor is the NextCursor of the previous page, "" for the first. fetch
// reads up to max rows older than after, in conn, newest first, wrapping
// its own errors; key is a row's place in the list. A bad shop id, limit or
// cursor is a *checkoutd.ValidationError; an empty page of a shop that does
// not exist is checkoutd.ErrShopNotFound ("list <what> of <shop>"). next is nil on the last page.
func ListShopPage[T any](ctx context.Context, conn database.Executor, what, shopID string, limit int, cursor string,
	fetch func(after page.After, max int32) ([]T, error), key func(T) page.After) (rows []T, next *string, err error) {
	var issues []checkoutd.FieldIssue
	if !checkoutd.ValidShopID(shopID) {
		issues = append(issues, checkoutd.FieldIssue{Field: "shopId", Issue: checkoutd.IDIssue})
	}
	limit, ok := page.Limit(limit)
	if !ok {
		issues = append(issues, checkoutd.FieldIssue{Field: "limit", Issue: page.LimitIssue})
	}
	after, err := page.ParseAfter(cursor)
	if err != nil {
		issues = append(issues, checkoutd.FieldIssue{Field: "cursor", Issue: page.CursorIssue})
	}
	if len(issues) > 0 {
		return nil, nil, &checkoutd.ValidationError{Details: issues}
	}

	rows, err = fetch(after, int32(limit+1))
	if err != nil {
		return nil, nil, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		cursor := key(rows[limit-1]).Cursor()
		next = &cursor
	}
	if len(rows) == 0 {
		exists, err := db.New().ShopExists(ctx, conn, shopID)
		if err != nil {
			return nil, nil, database.WrapError("look up shop", err)
		}
		if !exists {
			return nil, nil, fmt.Errorf("list %s of %q: %w", what, shopID, checkoutd.ErrShopNotFound)
		}
	}
	return rows, next, nil
}
