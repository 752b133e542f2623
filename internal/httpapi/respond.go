package httpapi

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/inventory"
)

// writeJSON encodes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes the contract's error body: error and message, plus
// extra fields.
func writeError(w http.ResponseWriter, status int, code, message string, extra map[string]any) {
	body := map[string]any{"error": code, "message": message}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, body)
}

func writeNotFound(w http.ResponseWriter, message string) {
	writeError(w, http.StatusNotFound, "not_found", message, nil)
}

func writeInvalid(w http.ResponseWriter, details []inventory.FieldIssue) {
	message := "invalid request"
	if len(details) > 0 {
		message = details[0].Field + " " + details[0].Issue
	}
	writeError(w, http.StatusBadRequest, "invalid_request", message, map[string]any{"details": details})
}

// fail answers with the status and body the contract gives err. Anything
// it does not know is a 500 whose body says nothing of the cause; the cause
// goes to the log with the request id.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		invalid      *inventory.ValidationError
		insufficient *inventory.InsufficientStockError
		notActive    *inventory.HoldNotActiveError
		conflict     *inventory.StockConflictError
		busy         *inventory.BusyError
	)
	switch {
	case errors.As(err, &invalid):
		writeInvalid(w, invalid.Details)
	case errors.As(err, &insufficient):
		writeError(w, http.StatusConflict, "insufficient_stock", "not enough stock for every item", map[string]any{
			"code": "inventory_insufficient", "items": insufficient.Lines,
		})
	case errors.As(err, &notActive):
		writeError(w, http.StatusConflict, "hold_not_active", "hold is "+string(notActive.Status), map[string]any{
			"status": notActive.Status,
		})
	case errors.As(err, &conflict):
		var row map[string]any
		if conflict.SKU != "" {
			row = map[string]any{"sku": conflict.SKU, "variantKey": conflict.VariantKey, "locationId": conflict.LocationID}
		}
		writeError(w, http.StatusConflict, "stock_conflict", conflict.Error(), row)
	case errors.Is(err, inventory.ErrIdempotencyConflict):
		writeError(w, http.StatusConflict, "idempotency_conflict", "idempotency key was used with a different request", nil)
	case errors.As(err, &busy):
		ms := busy.RetryAfter.Milliseconds()
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(busy.RetryAfter.Seconds()))))
		writeError(w, http.StatusTooManyRequests, "inventory_busy", "inventory is busy, retry later", map[string]any{"retryAfter": ms})
	case errors.Is(err, inventory.ErrShopNotFound):
		writeNotFound(w, "shop not found")
	case errors.Is(err, inventory.ErrHoldNotFound):
		writeNotFound(w, "hold not found")
	case errors.Is(err, inventory.ErrStockLineNotFound):
		writeNotFound(w, "stock line not found")
	case errors.Is(err, inventory.ErrUnavailable):
		a.log.ErrorContext(r.Context(), "inventory unavailable", "request_id", httpserver.RequestID(r.Context()), "error", err.Error())
		writeError(w, http.StatusServiceUnavailable, "inventory_unavailable", "inventory is unavailable", nil)
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
