package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// DefaultPurchaseLimitWindow is how far back a customer's holds count
// against a line's MaxPerCustomer when Config.PurchaseLimitWindow is 0.
const DefaultPurchaseLimitWindow = 24 * time.Hour

// MaxCustomerKeyLen is how many characters a customer key may have.
const MaxCustomerKeyLen = 128

// The kinds of limit a LimitBreach names.
const (
	LimitPerOrder    = "per_order"
	LimitPerCustomer = "per_customer"
)

// LimitBreach is a line of a hold that asks for more than a purchase limit
// of the line allows.
type LimitBreach struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Requested  int64  `json:"requested"`
	Limit      int64  `json:"limit"`
	// Kind is LimitPerOrder or LimitPerCustomer.
	Kind string `json:"kind"`
	// Remaining, for a per-customer limit, is how many more units the
	// customer may still hold of the line now.
	Remaining *int64 `json:"remaining,omitempty"`
}

// LimitExceededError is returned when a hold asks for more of a line than
// its MaxPerOrder, or than its MaxPerCustomer leaves the customer. Nothing
// was reserved.
type LimitExceededError struct {
	Lines []LimitBreach
}

func (e *LimitExceededError) Error() string {
	parts := make([]string, len(e.Lines))
	for i, b := range e.Lines {
		parts[i] = fmt.Sprintf("%s[%s] requested %d, %s limit %d", b.SKU, b.VariantKey, b.Requested, b.Kind, b.Limit)
	}
	return "purchase limit exceeded: " + strings.Join(parts, "; ")
}

// ValidCustomerKey reports whether k may name a customer: 1 to
// MaxCustomerKeyLen printable characters.
func ValidCustomerKey(k string) bool {
	if k == "" || !utf8.ValidString(k) || utf8.RuneCountInString(k) > MaxCustomerKeyLen {
		return false
	}
	for _, r := range k {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// customerHash is what the ledger stores for a customer key: the hex
// SHA-256 of the shop id and the key. The shop id goes in so that the same
// key (an email, say) is a different hash in every shop: the stored hashes
// of two shops cannot be joined to follow one person across them, and a
// table of precomputed email hashes serves for one shop at most. A secret
// of the service would hide keys better but would reset every customer's
// count whenever it changed.
func customerHash(shopID, key string) string {
	sum := sha256.Sum256([]byte(shopID + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// purchaseLimitWindow is Config.PurchaseLimitWindow with its default.
func (l *Ledger) purchaseLimitWindow() time.Duration {
	if l.cfg.PurchaseLimitWindow > 0 {
		return l.cfg.PurchaseLimitWindow
	}
	return DefaultPurchaseLimitWindow
}

// checkOrderLimits reads the purchase limits of lines and refuses a hold
// that breaks a per-order limit, or that asks for a line with a
// per-customer limit without a customer key. perCustomer tells whether
// some line has a per-customer limit, which Reserve then enforces under the
// customer's lock (reserveForCustomer).
//
// A per-order limit needs no lock: it is about one request alone, and a
// limit changed while the hold is placed orders the change after the hold.
func (l *Ledger) checkOrderLimits(ctx context.Context, shopID string, lines []Line, req ReserveRequest) (perCustomer bool, err error) {
	skus, variantKeys, _ := lineColumns(lines)
	limits, err := l.queries.ReadLineLimits(ctx, l.db, db.ReadLineLimitsParams{ShopID: shopID, Skus: skus, VariantKeys: variantKeys})
	if err != nil {
		return false, l.dbError("read purchase limits", err)
	}
	if len(limits) == 0 {
		return false, nil
	}
	byLine := make(map[lineKey]db.ReadLineLimitsRow, len(limits))
	for _, r := range limits {
		byLine[lineKey{r.Sku, r.VariantKey}] = r
		perCustomer = perCustomer || r.MaxPerCustomer > 0
	}
	if perCustomer && req.CustomerKey == "" {
		return false, &checkoutd.ValidationError{Details: []checkoutd.FieldIssue{{
			Field: "customerKey", Issue: "is required: an item has a per-customer purchase limit",
		}}}
	}
	var over LimitExceededError
	for _, ln := range lines {
		r, ok := byLine[lineKey{ln.SKU, ln.VariantKey}]
		if ok && r.MaxPerOrder > 0 && ln.Quantity > r.MaxPerOrder {
			over.Lines = append(over.Lines, LimitBreach{
				SKU: ln.SKU, VariantKey: ln.VariantKey, Requested: ln.Quantity, Limit: r.MaxPerOrder, Kind: LimitPerOrder,
			})
		}
	}
	if len(over.Lines) > 0 {
		return false, &over
	}
	return perCustomer, nil
}

// reserveForCustomer places a hold with a line under a per-customer limit.
// In one transaction it locks the customer's row (purchase_limit_customers),
// counts what the customer holds and bought of each line within the window,
// refuses the hold if it would pass a limit, and otherwise places it as
// Reserve does and records it as the customer's. Another hold of the same
// customer, on this replica or any other, waits for the row's lock and then
// counts this hold, so no two can together pass a limit.
//
// Such a hold does not go through group commit: its lock comes first in
// its transaction, before any hold or stock row, and a group, which locks
// holds and stock rows for many callers, never takes one, so the lock
// order stays holds, then stock, with the customer's row ahead of both;
// one customer's holds are one after another anyway.
func (l *Ledger) reserveForCustomer(ctx context.Context, shopID string, lines []Line, req ReserveRequest) (*Hold, bool, error) {
	hash := customerHash(shopID, req.CustomerKey)
	var (
		hold    *Hold
		created bool
		// failed is the transaction's own refusal or error, already
		// wrapped; anything else inBoundTx returns is its begin or commit.
		failed error
	)
	err := l.inBoundTx(ctx, func(b *Ledger) error {
		hold, created, failed = b.reserveCounted(ctx, shopID, hash, lines, req)
		return failed
	})
	if failed != nil {
		return nil, false, failed
	}
	if err != nil {
		return nil, false, l.dbError("place customer hold", err)
	}
	return hold, created, nil
}

// reserveCounted is reserveForCustomer's transaction, on b bound to it.
func (b *Ledger) reserveCounted(ctx context.Context, shopID, hash string, lines []Line, req ReserveRequest) (*Hold, bool, error) {
	if err := b.lockCustomer(ctx, shopID, hash); err != nil {
		return nil, false, err
	}
	if req.IdempotencyKey != "" {
		// A replay counts nothing twice: it returns the hold it placed.
		existing, err := b.holdForKey(ctx, shopID, req.IdempotencyKey, lines)
		if err != nil || existing != nil {
			return existing, false, err
		}
	}
	if err := b.checkCustomerLimits(ctx, shopID, hash, lines, ""); err != nil {
		return nil, false, err
	}
	hold, created, err := b.reserveLines(ctx, shopID, lines, req)
	if err != nil || !created {
		return hold, created, err
	}
	if err := b.recordCustomerHold(ctx, shopID, hash, hold.ID); err != nil {
		return nil, false, err
	}
	return hold, true, nil
}

// lockCustomer takes the customer's lock (purchase_limit_customers) for
// the rest of b's transaction. It must be the transaction's first lock:
// customer, then holds, then stock is the order.
func (b *Ledger) lockCustomer(ctx context.Context, shopID, hash string) error {
	if err := b.queries.LockPurchaseLimitCustomer(ctx, b.db, db.LockPurchaseLimitCustomerParams{ShopID: shopID, CustomerHash: hash}); err != nil {
		return b.dbError("lock customer", err)
	}
	return nil
}

// recordCustomerHold names holdID as the customer's, for later counts.
func (b *Ledger) recordCustomerHold(ctx context.Context, shopID, hash, holdID string) error {
	if err := b.queries.RecordPurchaseLimitHold(ctx, b.db, db.RecordPurchaseLimitHoldParams{ShopID: shopID, HoldID: holdID, CustomerHash: hash}); err != nil {
		return b.dbError("record customer hold", err)
	}
	return nil
}

// checkCustomerLimits is a *LimitExceededError when lines, added to what
// the customer has of them within the window (the hold excludeHoldID
// aside, whose lines lines replace), would pass a line's MaxPerCustomer.
// b's transaction must hold the customer's lock.
func (b *Ledger) checkCustomerLimits(ctx context.Context, shopID, hash string, lines []Line, excludeHoldID string) error {
	skus, variantKeys, _ := lineColumns(lines)
	units, err := b.queries.CustomerLineUnits(ctx, b.db, db.CustomerLineUnitsParams{
		ShopID: shopID, CustomerHash: hash, WindowSeconds: int64(b.purchaseLimitWindow() / time.Second),
		ExcludeHoldID: excludeHoldID, Skus: skus, VariantKeys: variantKeys,
	})
	if err != nil {
		return b.dbError("count customer units", err)
	}
	requested := make(map[lineKey]int64, len(lines))
	for _, ln := range lines {
		requested[lineKey{ln.SKU, ln.VariantKey}] = ln.Quantity
	}
	var over LimitExceededError
	for _, u := range units {
		q := requested[lineKey{u.Sku, u.VariantKey}]
		if u.MaxPerCustomer > 0 && u.Units+q > u.MaxPerCustomer {
			remaining := max(u.MaxPerCustomer-u.Units, 0)
			over.Lines = append(over.Lines, LimitBreach{
				SKU: u.Sku, VariantKey: u.VariantKey, Requested: q, Limit: u.MaxPerCustomer,
				Kind: LimitPerCustomer, Remaining: &remaining,
			})
		}
	}
	if len(over.Lines) > 0 {
		return &over
	}
	return nil
}
