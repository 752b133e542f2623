package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/internal/pgtext"
	"github.com/checkoutd/checkoutd/inventory"
)

// writeJSON encodes v with status, its times as the API renders them
// (withAPITimes).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(withAPITimes(v))
}

// writeRaw writes body, JSON as writeJSON would encode it, with status.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// jsonContentType is the Content-Type of every JSON body, shared so that
// setting it costs no allocation; net/http only reads it.
var jsonContentType = []string{"application/json"}

// MaxErrorBodyBytes bounds every error body (the contract's 64 KiB).
const MaxErrorBodyBytes = 64 << 10

// Bounds of the details of a 400: a request can be wrong in more ways than
// an answer should list.
const (
	maxDetails     = 20
	maxDetailBytes = 200
)

// writeError writes the contract's error body: error and message, plus
// extra fields. A body that would pass MaxErrorBodyBytes loses its extra
// fields and keeps the start of its message, so no input can make an error
// answer large.
func writeError(w http.ResponseWriter, status int, code, message string, extra map[string]any) {
	body := map[string]any{"error": code, "message": message}
	for k, v := range extra {
		body[k] = v
	}
	enc, err := json.Marshal(body)
	if err != nil || len(enc) >= MaxErrorBodyBytes {
		enc, _ = json.Marshal(map[string]any{"error": code, "message": truncate(message, maxDetailBytes)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(enc, '\n'))
}

func writeNotFound(w http.ResponseWriter, message string) {
	writeError(w, http.StatusNotFound, "not_found", message, nil)
}

// writeInvalid answers 400 invalid_request with details: at most maxDetails
// of them, the last saying how many more there were, each field and issue
// cut to maxDetailBytes (a field's path echoes the client's key, which can
// be as long as the body).
func writeInvalid(w http.ResponseWriter, details []checkoutd.FieldIssue) {
	if len(details) > maxDetails {
		more := len(details) - (maxDetails - 1)
		details = append(details[:maxDetails-1:maxDetails-1], checkoutd.FieldIssue{
			Field: "body", Issue: fmt.Sprintf("has %d more issues not listed", more),
		})
	}
	shown := make([]checkoutd.FieldIssue, len(details))
	for i, d := range details {
		shown[i] = checkoutd.FieldIssue{Field: truncate(d.Field, maxDetailBytes), Issue: truncate(d.Issue, maxDetailBytes)}
	}
	message := "invalid request"
	if len(shown) > 0 {
		message = shown[0].Field + " " + shown[0].Issue
	}
	writeError(w, http.StatusBadRequest, "invalid_request", message, map[string]any{"details": shown})
}

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// busyRetryAfter is what a contended database tells clients to wait when
// the ledger did not say (its BusyError carries its own).
const busyRetryAfter = time.Second

// writeBusy answers 429 inventory_busy, with Retry-After in seconds and
// retryAfter in milliseconds.
func writeBusy(w http.ResponseWriter, retryAfter time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	writeError(w, http.StatusTooManyRequests, "inventory_busy", "inventory is busy, retry later", map[string]any{"retryAfter": retryAfter.Milliseconds()})
}

// fail answers with the status and body the contract gives err. Anything
// it does not know is a 500 whose body says nothing of the cause; the cause
// goes to the log with the request id.
//
// Transient database failures map the same way on every route: the
// connection failing (database.IsUnavailable) is 503 inventory_unavailable,
// contention (a BusyError, database.IsContended) is 429 inventory_busy with
// Retry-After. The Stripe webhook, which can only say "retry" with a 5xx,
// answers 503 for both (see stripeWebhook).
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		invalid      *checkoutd.ValidationError
		insufficient *inventory.InsufficientStockError
		overLimit    *inventory.LimitExceededError
		notActive    *inventory.HoldNotActiveError
		exceeds      *inventory.ReturnExceedsSaleError
		conflict     *inventory.StockConflictError
		stale        *inventory.StaleCountError
		busy         *inventory.BusyError
		limited      *rateLimitedError
	)
	switch {
	case errors.As(err, &invalid):
		writeInvalid(w, invalid.Details)
	case errors.As(err, &insufficient):
		writeError(w, http.StatusConflict, "insufficient_stock", "not enough stock for every item", map[string]any{
			"code": "inventory_insufficient", "items": insufficient.Lines,
		})
	case errors.As(err, &overLimit):
		writeError(w, http.StatusConflict, "limit_exceeded", "an item is over its purchase limit", map[string]any{
			"items": overLimit.Lines,
		})
	case errors.As(err, &notActive):
		writeError(w, http.StatusConflict, "hold_not_active", "hold is "+string(notActive.Status), map[string]any{
			"status": notActive.Status,
		})
	case errors.As(err, &exceeds):
		var location any
		if exceeds.LocationID != "" {
			location = exceeds.LocationID
		}
		writeError(w, http.StatusConflict, "return_exceeds_sale", exceeds.Error(), map[string]any{
			"sku": exceeds.SKU, "variantKey": exceeds.VariantKey, "locationId": location,
			"requested": exceeds.Requested, "returnable": exceeds.Returnable,
		})
	case errors.As(err, &conflict):
		var row map[string]any
		if conflict.SKU != "" {
			row = map[string]any{"sku": conflict.SKU, "variantKey": conflict.VariantKey, "locationId": conflict.LocationID}
		}
		writeError(w, http.StatusConflict, "stock_conflict", conflict.Error(), row)
	case errors.As(err, &stale):
		writeError(w, http.StatusConflict, "stale_count", stale.Error(), map[string]any{"items": stale.Lines})
	case errors.Is(err, inventory.ErrShopExists):
		writeError(w, http.StatusConflict, "conflict", "a shop with this id already exists", nil)
	case errors.Is(err, inventory.ErrLocationExists):
		writeError(w, http.StatusConflict, "conflict", "the shop already has a location with this id", nil)
	case errors.Is(err, inventory.ErrHoldInCheckout):
		writeError(w, http.StatusConflict, "hold_in_checkout", "hold is bound to a checkout session", nil)
	case errors.Is(err, inventory.ErrIdempotencyConflict):
		writeError(w, http.StatusConflict, "idempotency_conflict", "idempotency key was used with a different request", nil)
	case errors.As(err, &limited):
		// Rounded up, both: a client that waits as long as told finds a
		// request in the bucket.
		ms := max((limited.retryAfter + time.Millisecond - 1).Milliseconds(), 1)
		w.Header().Set("Retry-After", strconv.FormatInt((ms+999)/1000, 10))
		writeError(w, http.StatusTooManyRequests, "rate_limited", limited.budget()+" is spent, retry later", map[string]any{"retryAfter": ms})
	case errors.Is(err, checkoutd.ErrShopNotFound):
		writeNotFound(w, "shop not found")
	case errors.Is(err, inventory.ErrLocationNotFound):
		writeNotFound(w, "location not found")
	case errors.Is(err, inventory.ErrHoldNotFound):
		writeNotFound(w, "hold not found")
	case errors.Is(err, inventory.ErrStockLineNotFound):
		writeNotFound(w, stockLineNotFoundMessage(err))
	case database.IsUnavailable(err):
		a.log.ErrorContext(r.Context(), "inventory unavailable", "request_id", httpserver.RequestID(r.Context()), "error", err.Error())
		writeError(w, http.StatusServiceUnavailable, "inventory_unavailable", "inventory is unavailable", nil)
	case errors.As(err, &busy):
		writeBusy(w, busy.RetryAfter)
	case database.IsContended(err):
		a.log.WarnContext(r.Context(), "database contended", "request_id", httpserver.RequestID(r.Context()), "error", err.Error())
		writeBusy(w, busyRetryAfter)
	case database.IsBadText(err):
		// pgtext's checks at decoding should have stopped the string.
		a.log.WarnContext(r.Context(), "the database refused a string", "request_id", httpserver.RequestID(r.Context()), "error", err.Error())
		writeInvalid(w, []checkoutd.FieldIssue{{Field: "body", Issue: "has a string the database cannot store: " + pgtext.Issue}})
	default:
		a.log.ErrorContext(r.Context(), "request failed", "request_id", httpserver.RequestID(r.Context()), "error", err.Error())
		writeError(w, http.StatusInternalServerError, "internal_error", "internal error", nil)
	}
}

// pathVar returns a route variable, decoded: routes match on the encoded
// path so that a SKU may carry "/" as %2F.
func pathVar(r *http.Request, name string) string {
	v := mux.Vars(r)[name]
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}

// pathID returns the route variable name as the id of a thing, or answers
// 404 with notFound when its bytes cannot be an id of anything (a NUL,
// invalid UTF-8), without asking the database.
func pathID(w http.ResponseWriter, r *http.Request, name, notFound string) (string, bool) {
	id := pathVar(r, name)
	if !pgtext.Valid(id) {
		writeNotFound(w, notFound)
		return "", false
	}
	return id, true
}
