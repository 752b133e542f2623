package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrUnavailable is wrapped into errors of calls that got no usable answer
// from the authority: it could not be reached (connection refused, DNS,
// TLS), answered with a 5xx status, or answered with a body that is not the
// API's. Fail closed: an edge worker answers 503 inventory_unavailable.
var ErrUnavailable = errors.New("inventory authority unavailable")

// ErrTimeout is wrapped into errors of calls that got no complete answer
// within Config.Timeout or before the context's deadline. The request may
// have taken effect. Fail closed: an edge worker answers 504
// inventory_timeout.
var ErrTimeout = errors.New("inventory authority timeout")

// ErrAuthentication is wrapped into errors of calls the authority answered
// with 401 or 403: the token is missing, wrong or revoked. An edge worker
// logs it and answers 500 internal_error; an operator must fix
// INVENTORY_AUTHORITY_TOKEN.
var ErrAuthentication = errors.New("inventory authority authentication failed")

// The error codes an *APIError may carry in Code, from the contract. Codes
// of statuses that map to the sentinel errors (unauthorized, forbidden,
// internal_error, inventory_unavailable) never reach an APIError.
const (
	CodeInvalidRequest       = "invalid_request"        // 400, with Details
	CodeNotFound             = "not_found"              // 404: unknown shop, stock line or hold, or another shop's
	CodeConflict             = "conflict"               // 409
	CodeInsufficientStock    = "insufficient_stock"     // 409, with Items
	CodeLimitExceeded        = "limit_exceeded"         // 409, with LimitBreaches
	CodeHoldNotActive        = "hold_not_active"        // 409, with HoldStatus
	CodeHoldInCheckout       = "hold_in_checkout"       // 409: SetHoldItems on a hold bound to a checkout session
	CodeStockConflict        = "stock_conflict"         // 409, with SKU, VariantKey and LocationID
	CodeReturnExceedsSale    = "return_exceeds_sale"    // 409, with SKU, VariantKey and LocationID ("" unless the return named one)
	CodeStaleCount           = "stale_count"            // 409, with StaleCounts
	CodeIdempotencyConflict  = "idempotency_conflict"   // 409
	CodeBodyTooLarge         = "body_too_large"         // 413
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeInventoryBusy        = "inventory_busy"         // 429, with RetryAfter
	CodeRateLimited          = "rate_limited"           // 429, with RetryAfter: the shop's request budget is spent
)

// APIError is the authority refusing a request with a status other than
// 401, 403 and 5xx (which are ErrAuthentication and ErrUnavailable): in
// practice a 4xx with the contract's error body. Which of the optional
// fields are set depends on Code. Get it with errors.As:
//
//	var apiErr *client.APIError
//	if errors.As(err, &apiErr) && apiErr.Code == client.CodeInsufficientStock {
//		for _, s := range apiErr.Items { ... }
//	}
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the body's "error" field, one of the Code constants; empty if
	// the body was not the contract's (for instance a proxy's error page).
	Code string
	// Message is the server's explanation for humans; not for branching.
	Message string
	// Items are the lines that fell short, for insufficient_stock.
	Items []Shortfall
	// StaleCounts are the sets whose ExpectedOnHand no longer held, for
	// stale_count.
	StaleCounts []StaleCount
	// LimitBreaches are the lines over a purchase limit, for
	// limit_exceeded.
	LimitBreaches []LimitBreach
	// HoldStatus is the hold's current status, for hold_not_active.
	HoldStatus HoldStatus
	// RetryAfter is how long to wait before trying again, for
	// inventory_busy and rate_limited: the body's retryAfter (milliseconds), else the
	// Retry-After header.
	RetryAfter time.Duration
	// Details say what is wrong with which request field, for
	// invalid_request.
	Details []FieldIssue
	// SKU, VariantKey and LocationID name the stock row a stock_conflict is
	// about.
	SKU, VariantKey, LocationID string
}

// Error describes the refusal with its status, code, message and, for
// insufficient_stock, stale_count and invalid_request, the lines or fields
// concerned.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "inventory authority refused the request: HTTP %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for i, s := range e.Items {
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s[%s] requested %d, available %d", sep, s.SKU, s.VariantKey, s.Requested, s.Available)
	}
	if len(e.Items) > 0 {
		b.WriteString(")")
	}
	for i, s := range e.StaleCounts {
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s[%s] at %s expected on hand %d, has %d", sep, s.SKU, s.VariantKey, s.LocationID, s.ExpectedOnHand, s.OnHand)
	}
	if len(e.StaleCounts) > 0 {
		b.WriteString(")")
	}
	for i, d := range e.Details {
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s %s", sep, d.Field, d.Issue)
	}
	if len(e.Details) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

// errorBody is the contract's error body, with every extra field any code
// carries. Items is read by the code: insufficient_stock and stale_count
// list different things under the same name.
type errorBody struct {
	Error      string          `json:"error"`
	Message    string          `json:"message"`
	Items      json.RawMessage `json:"items"`
	Status     HoldStatus      `json:"status"`
	RetryAfter *int64          `json:"retryAfter"`
	Details    []FieldIssue    `json:"details"`
	SKU        string          `json:"sku"`
	VariantKey string          `json:"variantKey"`
	LocationID string          `json:"locationId"`
}

// readErrorBody reads an error response's body. A body that is not JSON
// (a proxy's HTML page) gives an empty errorBody, not an error: the status
// still says what happened.
func readErrorBody(r io.Reader) (errorBody, error) {
	var eb errorBody
	data, err := readBody(r, maxErrorBytes)
	if err != nil {
		return eb, err
	}
	if json.Unmarshal(data, &eb) != nil {
		return errorBody{}, nil
	}
	return eb, nil
}

// describe renders the code and message for a sentinel error's text, with a
// leading space, or "" when the body had neither.
func (eb errorBody) describe() string {
	var s string
	if eb.Error != "" {
		s += " " + eb.Error
	}
	if eb.Message != "" {
		s += ": " + eb.Message
	}
	return s
}

// apiError turns a refusal into an *APIError.
func (eb errorBody) apiError(resp *http.Response) *APIError {
	e := &APIError{
		Status:     resp.StatusCode,
		Code:       eb.Error,
		Message:    eb.Message,
		HoldStatus: eb.Status,
		Details:    eb.Details,
		SKU:        eb.SKU,
		VariantKey: eb.VariantKey,
		LocationID: eb.LocationID,
	}
	// A body whose items do not decode keeps the rest: the code and status
	// still say what happened.
	if len(eb.Items) > 0 {
		switch eb.Error {
		case CodeStaleCount:
			_ = json.Unmarshal(eb.Items, &e.StaleCounts)
		case CodeLimitExceeded:
			_ = json.Unmarshal(eb.Items, &e.LimitBreaches)
		default:
			_ = json.Unmarshal(eb.Items, &e.Items)
		}
	}
	if eb.RetryAfter != nil && *eb.RetryAfter > 0 {
		e.RetryAfter = time.Duration(*eb.RetryAfter) * time.Millisecond
	} else {
		e.RetryAfter = retryAfterHeader(resp.Header.Get("Retry-After"))
	}
	if e.Message == "" {
		switch loc := resp.Header.Get("Location"); {
		case resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "":
			e.Message = "unexpected redirect to " + loc + ": check the base URL"
		default:
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	return e
}

// retryAfterHeader parses a Retry-After header: delay seconds or an HTTP
// date. Anything else is 0.
func retryAfterHeader(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
