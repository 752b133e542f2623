package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// SetHoldItemsRequest is what a cart's hold should hold from now on.
type SetHoldItemsRequest struct {
	// Items are the hold's lines afterwards (1 to 100; lines naming the
	// same stock line are summed).
	Items []Line
	// TTL, when not zero, extends the hold as ExtendHold does (whole
	// seconds, 1s to 24h).
	TTL time.Duration
	// CustomerKey names the shopper, as on the request that placed the
	// hold; "" sends none.
	CustomerKey string
}

// SetHoldItems makes an active hold's lines exactly req.Items, all or
// nothing: what a line grows by is reserved, what it shrinks by (or a line
// left out) is released. Not enough stock is an *APIError with
// CodeInsufficientStock (Available counts what the hold already has) and
// leaves the hold as it was; a hold that is not active, or has lapsed, is
// CodeHoldNotActive with its HoldStatus; one bound to a checkout session,
// or adopted by a checkout (CheckoutRequest.HoldID), is CodeHoldInCheckout. Setting the lines a hold already has changes nothing,
// so a retry is safe.
func (c *Client) SetHoldItems(ctx context.Context, shopID, holdID string, req SetHoldItemsRequest) (*Hold, error) {
	op := fmt.Sprintf("set items of hold %q of shop %q", holdID, shopID)
	body := struct {
		Items       []Line `json:"items"`
		TTLSeconds  *int64 `json:"ttlSeconds,omitempty"`
		CustomerKey string `json:"customerKey,omitempty"`
	}{Items: req.Items, CustomerKey: req.CustomerKey}
	if req.TTL != 0 {
		secs, err := ttlSeconds(req.TTL)
		if err != nil {
			return nil, fmt.Errorf("inventory client: %s: %w", op, err)
		}
		body.TTLSeconds = &secs
	}
	return c.holdCall(ctx, op, http.MethodPut, shopID, holdID, "/items", body)
}
