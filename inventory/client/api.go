package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Validate asks whether a hold on items could be placed in shopID right now,
// holding nothing: the check an edge worker makes before letting a checkout
// through. Lines naming the same stock line are summed, and a line the shop
// has never stocked counts as available 0. A negative answer is not an
// error: it is a result with OK false and the lines that fall short.
//
// An error means the answer is unknown: fail closed (see the package doc for
// the mapping to the edge's 503, 504 and 500). An unknown shop, or another
// shop than a shop key's own, is an *APIError with CodeNotFound; malformed
// items are CodeInvalidRequest.
func (c *Client) Validate(ctx context.Context, shopID string, items []Line) (ValidateResult, error) {
	op := fmt.Sprintf("validate shop %q", shopID)
	req := struct {
		ShopID string `json:"shopId"`
		Items  []Line `json:"items"`
	}{shopID, items}
	// ok is a pointer so that a body without it is not taken for "no".
	var resp struct {
		OK           *bool       `json:"ok"`
		Insufficient []Shortfall `json:"insufficient"`
	}
	if err := c.call(ctx, op, http.MethodPost, "/validate", nil, req, &resp); err != nil {
		return ValidateResult{}, err
	}
	if resp.OK == nil {
		return ValidateResult{}, fmt.Errorf("inventory client: %s: %w: response has no \"ok\" field", op, ErrUnavailable)
	}
	return ValidateResult{OK: *resp.OK, Insufficient: resp.Insufficient}, nil
}

// StockInfo returns one stock line of shopID. A line the shop has never
// stocked or configured is an *APIError with CodeNotFound.
func (c *Client) StockInfo(ctx context.Context, shopID, sku, variantKey string) (*StockInfo, error) {
	op := fmt.Sprintf("stock info %s[%s] in shop %q", sku, variantKey, shopID)
	path, err := stockPath(shopID, sku)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	var info StockInfo
	if err := c.call(ctx, op, http.MethodGet, path, variantQuery(variantKey), nil, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// ListStock returns a page of shopID's stock lines. Pass the page's
// NextCursor in opts.Cursor for the next one, until it is "".
func (c *Client) ListStock(ctx context.Context, shopID string, opts ListStockOptions) (*StockPage, error) {
	op := fmt.Sprintf("list stock of shop %q", shopID)
	path, err := shopPath(shopID)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	q := url.Values{}
	if opts.LowStockOnly {
		q.Set("lowStock", "true")
	}
	setPage(q, opts.Limit, opts.Cursor)
	var page StockPage
	if err := c.call(ctx, op, http.MethodGet, path+"/stock", q, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// UpdateStockSettings changes a stock line's low-stock threshold, safety
// stock or backorder limit, creating the line if the shop has not stocked it
// yet, and returns the line. Lowering the backorder limit below what holds
// already backorder is an *APIError with CodeStockConflict.
func (c *Client) UpdateStockSettings(ctx context.Context, shopID, sku, variantKey string, settings StockSettings) (*StockInfo, error) {
	op := fmt.Sprintf("update settings of %s[%s] in shop %q", sku, variantKey, shopID)
	path, err := stockPath(shopID, sku)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	var info StockInfo
	if err := c.call(ctx, op, http.MethodPut, path+"/settings", variantQuery(variantKey), settings, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// CreateHold holds stock in shopID for a checkout: every line of req, or
// none. With req.IdempotencyKey, repeating the request returns the first
// hold, so a CreateHold that timed out can be retried safely.
//
// Not enough stock is an *APIError with CodeInsufficientStock listing the
// short Items; a line over a purchase limit, CodeLimitExceeded listing
// LimitBreaches; lock contention past the server's budget is CodeInventoryBusy
// with RetryAfter.
func (c *Client) CreateHold(ctx context.Context, shopID string, req HoldRequest) (*Hold, error) {
	op := fmt.Sprintf("create hold in shop %q", shopID)
	path, err := shopPath(shopID)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	body := struct {
		Items          []Line `json:"items"`
		TTLSeconds     *int64 `json:"ttlSeconds,omitempty"`
		IdempotencyKey string `json:"idempotencyKey,omitempty"`
		Reference      string `json:"reference,omitempty"`
		CustomerKey    string `json:"customerKey,omitempty"`
	}{Items: req.Items, IdempotencyKey: req.IdempotencyKey, Reference: req.Reference, CustomerKey: req.CustomerKey}
	if req.TTL != 0 {
		secs, err := ttlSeconds(req.TTL)
		if err != nil {
			return nil, fmt.Errorf("inventory client: %s: %w", op, err)
		}
		body.TTLSeconds = &secs
	}
	var hold Hold
	if err := c.call(ctx, op, http.MethodPost, path+"/holds", nil, body, &hold); err != nil {
		return nil, err
	}
	return &hold, nil
}

// GetHold returns a hold of shopID. A hold past its expiry reads as
// HoldExpired even before the reaper has closed it. An unknown hold is an
// *APIError with CodeNotFound.
func (c *Client) GetHold(ctx context.Context, shopID, holdID string) (*Hold, error) {
	op := fmt.Sprintf("get hold %q of shop %q", holdID, shopID)
	return c.holdCall(ctx, op, http.MethodGet, shopID, holdID, "", nil)
}

// CommitHold turns a hold into a sale once the order is paid: its units
// leave stock for good. reference (an order id, say) is recorded on the
// sale's movements; it may be "". Committing a committed hold returns it
// unchanged, so a retry is safe. A released or expired hold is an *APIError
// with CodeHoldNotActive and its HoldStatus.
func (c *Client) CommitHold(ctx context.Context, shopID, holdID, reference string) (*Hold, error) {
	op := fmt.Sprintf("commit hold %q of shop %q", holdID, shopID)
	body := struct {
		Reference string `json:"reference,omitempty"`
	}{reference}
	return c.holdCall(ctx, op, http.MethodPost, shopID, holdID, "/commit", body)
}

// ReleaseHold gives a hold's units back, for an abandoned cart or a failed
// payment. reason is recorded on the release movements; it may be "".
// Releasing a released or expired hold returns it unchanged; releasing a
// committed one is an *APIError with CodeHoldNotActive.
func (c *Client) ReleaseHold(ctx context.Context, shopID, holdID, reason string) (*Hold, error) {
	op := fmt.Sprintf("release hold %q of shop %q", holdID, shopID)
	body := struct {
		Reason string `json:"reason,omitempty"`
	}{reason}
	return c.holdCall(ctx, op, http.MethodPost, shopID, holdID, "/release", body)
}

// ExtendHold sets an active hold to expire ttl (whole seconds, 1s to 24h)
// from now. A hold that is not active, or has lapsed, is an *APIError with
// CodeHoldNotActive.
func (c *Client) ExtendHold(ctx context.Context, shopID, holdID string, ttl time.Duration) (*Hold, error) {
	op := fmt.Sprintf("extend hold %q of shop %q", holdID, shopID)
	secs, err := ttlSeconds(ttl)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	body := struct {
		TTLSeconds int64 `json:"ttlSeconds"`
	}{secs}
	return c.holdCall(ctx, op, http.MethodPost, shopID, holdID, "/extend", body)
}

// holdCall makes a request on one hold and decodes the hold it returns.
func (c *Client) holdCall(ctx context.Context, op, method, shopID, holdID, action string, body any) (*Hold, error) {
	path, err := shopPath(shopID)
	if err == nil {
		var hold string
		hold, err = segment("hold id", holdID)
		path += "/holds/" + hold + action
	}
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	var hold Hold
	if err := c.call(ctx, op, method, path, nil, body, &hold); err != nil {
		return nil, err
	}
	return &hold, nil
}

// Adjust applies a batch of stock changes to shopID, all or none, writing a
// movement for each. Unknown stock lines are created by OpSet and
// OpIncrement. A change that would leave less on hand than is reserved
// fails the batch with an *APIError of CodeStockConflict; a set whose
// ExpectedOnHand no longer holds fails it with CodeStaleCount, listing
// every stale set in StaleCounts.
func (c *Client) Adjust(ctx context.Context, shopID string, req AdjustRequest) (*ChangeResult, error) {
	return c.change(ctx, fmt.Sprintf("adjust stock of shop %q", shopID), shopID, "/adjustments", req)
}

// Receive books the arrival of a purchase order in shopID: PURCHASE_ORDER
// movements referencing it, all items or none.
func (c *Client) Receive(ctx context.Context, shopID string, req ReceiptRequest) (*ChangeResult, error) {
	return c.change(ctx, fmt.Sprintf("receive %q in shop %q", req.PurchaseOrderID, shopID), shopID, "/receipts", req)
}

// Transfer moves stock between two of shopID's locations, a pair of
// TRANSFER movements per line, all lines or none. The source must have the
// units unreserved, else it is an *APIError with CodeStockConflict.
func (c *Client) Transfer(ctx context.Context, shopID string, req TransferRequest) (*ChangeResult, error) {
	op := fmt.Sprintf("transfer from %q to %q in shop %q", req.FromLocationID, req.ToLocationID, shopID)
	return c.change(ctx, op, shopID, "/transfers", req)
}

// change posts a stock change request.
func (c *Client) change(ctx context.Context, op, shopID, route string, req any) (*ChangeResult, error) {
	path, err := shopPath(shopID)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	var res ChangeResult
	if err := c.call(ctx, op, http.MethodPost, path+route, nil, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Movements returns a page of shopID's stock ledger, newest first. Pass the
// page's NextCursor in opts.Cursor for the next one, until it is "".
func (c *Client) Movements(ctx context.Context, shopID string, opts MovementsOptions) (*MovementPage, error) {
	op := fmt.Sprintf("list movements of shop %q", shopID)
	path, err := shopPath(shopID)
	if err != nil {
		return nil, fmt.Errorf("inventory client: %s: %w", op, err)
	}
	q := url.Values{}
	if opts.SKU != "" {
		q.Set("sku", opts.SKU)
	}
	if opts.VariantKey != nil {
		// Sent even when "": its presence is the filter.
		q.Set("variantKey", *opts.VariantKey)
	}
	setPage(q, opts.Limit, opts.Cursor)
	var page MovementPage
	if err := c.call(ctx, op, http.MethodGet, path+"/movements", q, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// stockPath returns the escaped path of a stock line.
func stockPath(shopID, sku string) (string, error) {
	path, err := shopPath(shopID)
	if err != nil {
		return "", err
	}
	seg, err := segment("sku", sku)
	if err != nil {
		return "", err
	}
	return path + "/stock/" + seg, nil
}

// variantQuery is the query naming a variant key; none for "", which the
// server reads the same.
func variantQuery(variantKey string) url.Values {
	if variantKey == "" {
		return nil
	}
	return url.Values{"variantKey": {variantKey}}
}

// setPage adds paging parameters to q.
func setPage(q url.Values, limit int, cursor string) {
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
}

// ttlSeconds converts a hold TTL to the whole seconds the API takes. The
// range is the server's to check; a fraction of a second cannot be sent.
func ttlSeconds(ttl time.Duration) (int64, error) {
	if ttl <= 0 || ttl%time.Second != 0 {
		return 0, fmt.Errorf("TTL %s must be a positive whole number of seconds", ttl)
	}
	return int64(ttl / time.Second), nil
}
