package inventory

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/checkoutd/checkoutd/internal/database"
)

// ErrShopExists is returned by CreateShop for an id that is taken.
var ErrShopExists = errors.New("shop already exists")

// ErrLocationExists is returned by AddLocation for an id that is taken.
var ErrLocationExists = errors.New("location already exists")

// ErrHoldNotFound is returned for a hold id the shop does not have.
var ErrHoldNotFound = errors.New("hold not found")

// ErrStockLineNotFound is returned when reading a stock line the shop has
// never stocked or configured.
var ErrStockLineNotFound = errors.New("stock line not found")

// ErrUnavailable is wrapped into errors caused by the database not
// answering. Whatever was asked did not happen, or its outcome is unknown;
// callers must fail closed.
var ErrUnavailable = database.ErrUnavailable

// ErrIdempotencyConflict is returned when an idempotency key is reused with a
// different request.
var ErrIdempotencyConflict = errors.New("idempotency key was used with a different request")

// Shortfall is a line that cannot be had in the quantity asked for.
type Shortfall struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Requested  int64  `json:"requested"`
	Available  int64  `json:"available"`
}

// InsufficientStockError is returned when a hold cannot cover every line.
// Nothing was reserved.
type InsufficientStockError struct {
	Lines []Shortfall
}

func (e *InsufficientStockError) Error() string {
	parts := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		parts[i] = fmt.Sprintf("%s[%s] requested %d, available %d", l.SKU, l.VariantKey, l.Requested, l.Available)
	}
	return "insufficient stock: " + strings.Join(parts, "; ")
}

// HoldNotActiveError is returned when a hold cannot make the transition asked
// of it because of its status: committing a released or expired hold,
// releasing a committed one, extending anything but an active one.
type HoldNotActiveError struct {
	HoldID string
	Status HoldStatus
}

func (e *HoldNotActiveError) Error() string {
	return fmt.Sprintf("hold %s is %s", e.HoldID, e.Status)
}

// StockConflictError is returned when a stock change would leave a row with
// less on hand than it has reserved (or a setting that its holds already
// exceed). Nothing was changed.
type StockConflictError struct {
	SKU        string
	VariantKey string
	LocationID string
	Reason     string
}

func (e *StockConflictError) Error() string {
	if e.SKU == "" {
		return "stock conflict: " + e.Reason
	}
	return fmt.Sprintf("stock conflict on %s[%s] at %s: %s", e.SKU, e.VariantKey, e.LocationID, e.Reason)
}

// StaleCount is a set whose ExpectedOnHand was not what its stock row had
// on hand when the set ran.
type StaleCount struct {
	SKU            string `json:"sku"`
	VariantKey     string `json:"variantKey"`
	LocationID     string `json:"locationId"`
	ExpectedOnHand int64  `json:"expectedOnHand"`
	OnHand         int64  `json:"onHand"`
}

// StaleCountError is returned when a set's ExpectedOnHand no longer holds:
// stock moved after the count was taken, so writing it would overwrite that
// move. Lines names every stale set of the batch. Nothing was changed.
type StaleCountError struct {
	Lines []StaleCount
}

func (e *StaleCountError) Error() string {
	parts := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		parts[i] = fmt.Sprintf("%s[%s] at %s expected on hand %d, has %d", l.SKU, l.VariantKey, l.LocationID, l.ExpectedOnHand, l.OnHand)
	}
	return "stale count: " + strings.Join(parts, "; ")
}

// stockCheckConflict returns the StockConflictError that a CHECK violation
// on stock_levels stands for, or nil for any other error. The constraints
// are the domain's own invariants: the database refused a change that would
// oversell, which is a conflict with the stock as it is, not a failure of
// the service. The row is not named: callers that know it fill it in.
func stockCheckConflict(err error) *StockConflictError {
	var pgErr *pgconn.PgError
	if !database.IsCheckViolation(err) || !errors.As(err, &pgErr) || pgErr.TableName != "stock_levels" {
		return nil
	}
	reason := "the change would break the stock row's invariants"
	switch pgErr.ConstraintName {
	case "stock_levels_no_oversell":
		reason = "on hand would fall below what is reserved, beyond the backorder limit"
	case "stock_levels_reserved_nonnegative":
		reason = "reserved would fall below zero"
	}
	return &StockConflictError{Reason: reason}
}

// BusyError is returned when the stock rows an operation needs stayed locked
// by others past the lock budget. Nothing was changed; try again after
// RetryAfter.
type BusyError struct {
	RetryAfter time.Duration
	cause      error
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("inventory busy, retry after %s", e.RetryAfter)
}

func (e *BusyError) Unwrap() error { return e.cause }
