package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ReturnItem is units of one line of a committed hold coming back.
type ReturnItem struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Quantity   int64  `json:"quantity"`
	// LocationID is where the units were allocated. In a ReturnRequest ""
	// lets the server pick the line's locations in the order the hold drew
	// on them; in a Return it is always set.
	LocationID string `json:"locationId"`
}

// ReturnRequest asks to take units of a committed hold back.
type ReturnRequest struct {
	Items []ReturnItem
	// NoRestock records the return without putting the units back on
	// hand; by default they are restocked.
	NoRestock bool
	Reason    string
	// IdempotencyKey, when set, makes a repeat of the request return the
	// first return, so a CreateReturn that timed out can be retried safely.
	IdempotencyKey string
}

// Return is units taken back from a committed hold.
type Return struct {
	ID        string       `json:"id"`
	HoldID    string       `json:"holdId"`
	Items     []ReturnItem `json:"items"`
	Restock   bool         `json:"restock"`
	Reason    string       `json:"reason"`
	CreatedAt time.Time    `json:"createdAt"`
}

// CreateReturn records units of a committed hold coming back, all items or
// none. A return that would bring back more of a line than the hold sold is
// an *APIError with CodeReturnExceedsSale naming the line; a hold that is
// not committed, CodeHoldNotActive.
func (c *Client) CreateReturn(ctx context.Context, shopID, holdID string, req ReturnRequest) (*Return, error) {
	op := fmt.Sprintf("create return of hold %q of shop %q", holdID, shopID)
	items := make([]returnItemBody, len(req.Items))
	for i, it := range req.Items {
		items[i] = returnItemBody(it)
	}
	body := struct {
		Items          []returnItemBody `json:"items"`
		Restock        bool             `json:"restock"`
		Reason         string           `json:"reason,omitempty"`
		IdempotencyKey string           `json:"idempotencyKey,omitempty"`
	}{items, !req.NoRestock, req.Reason, req.IdempotencyKey}
	path, err := returnsPath(shopID, holdID)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	var ret Return
	if err := c.call(ctx, op, http.MethodPost, path, nil, body, &ret); err != nil {
		return nil, err
	}
	return &ret, nil
}

// ListReturns returns a hold's returns, oldest first.
func (c *Client) ListReturns(ctx context.Context, shopID, holdID string) ([]Return, error) {
	op := fmt.Sprintf("list returns of hold %q of shop %q", holdID, shopID)
	path, err := returnsPath(shopID, holdID)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	var out struct {
		Items []Return `json:"items"`
	}
	if err := c.call(ctx, op, http.MethodGet, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// returnItemBody is a ReturnItem as a request sends it: without a location
// when none is named.
type returnItemBody struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Quantity   int64  `json:"quantity"`
	LocationID string `json:"locationId,omitempty"`
}

func returnsPath(shopID, holdID string) (string, error) {
	path, err := shopPath(shopID)
	if err != nil {
		return "", err
	}
	hold, err := segment("hold id", holdID)
	if err != nil {
		return "", err
	}
	return path + "/holds/" + hold + "/returns", nil
}

// Rental is a committed rental hold: what went out, when it is due back
// and what has come back.
type Rental struct {
	HoldID    string    `json:"holdId"`
	Reference string    `json:"reference"`
	DueAt     time.Time `json:"dueAt"`
	// Status is "out", "overdue" or "returned".
	Status      string       `json:"status"`
	Outstanding int64        `json:"outstanding"`
	Items       []RentalItem `json:"items"`
	CreatedAt   time.Time    `json:"createdAt"`
}

// RentalItem is one line of a rental: what went out and what came back.
type RentalItem struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Quantity   int64  `json:"quantity"`
	Returned   int64  `json:"returned"`
}

// RentalPage is a page of rentals, newest first; NextCursor is "" on the
// last page.
type RentalPage struct {
	Items      []Rental `json:"items"`
	NextCursor string   `json:"nextCursor"`
}

// ListRentals returns a page of shopID's rentals, newest first: status ""
// for all, else "out", "overdue" or "returned"; limit 0 for the server's
// default; cursor the previous page's NextCursor, "" for the first.
func (c *Client) ListRentals(ctx context.Context, shopID, status string, limit int, cursor string) (*RentalPage, error) {
	op := fmt.Sprintf("list rentals of shop %q", shopID)
	path, err := shopPath(shopID)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page RentalPage
	if err := c.call(ctx, op, http.MethodGet, path+"/rentals", q, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}
