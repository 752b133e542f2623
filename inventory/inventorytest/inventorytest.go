// Package inventorytest is the inventory test kit: a shop fixture with stock
// and holds, made through the Ledger with sensible defaults the way River's
// testfactory makes jobs, the ledger assertion every test ends with, and the
// few reads and lapses of stored holds that the Ledger's API does not offer
// (a hold as stored, not as GetHold reports it; a hold made due without
// waiting for it).
//
// It is imported only by _test files. It sits under inventory, the owner of
// the tables it reads, so that internal/testkit stays free of domain imports.
package inventorytest

import (
	"context"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// ShopOpts are a fixture shop's settings; every field has a default.
type ShopOpts struct {
	// ID defaults to testdb.ShopID: a shop of the test's own.
	ID string
	// Name defaults to "test shop".
	Name string
}

// Shop is a shop created for a test, with helpers that change its stock
// through Ledger and fail the test on an error.
type Shop struct {
	ID     string
	Ledger *inventory.Ledger
}

// NewShop creates a shop through ledger; opts may be nil.
func NewShop(tb testing.TB, ledger *inventory.Ledger, opts *ShopOpts) *Shop {
	tb.Helper()
	if opts == nil {
		opts = &ShopOpts{}
	}
	s := &Shop{ID: opts.ID, Ledger: ledger}
	if s.ID == "" {
		s.ID = testdb.ShopID(tb)
	}
	name := opts.Name
	if name == "" {
		name = "test shop"
	}
	if _, err := ledger.CreateShop(context.Background(), s.ID, name); err != nil {
		tb.Fatalf("create shop %s: %v", s.ID, err)
	}
	return s
}

// Stock sets on_hand of sku (no variant) at the default location.
func (s *Shop) Stock(tb testing.TB, sku string, onHand int64) {
	tb.Helper()
	s.StockLine(tb, sku, "", "", onHand)
}

// StockLine sets on_hand of a line at a location ("" is the default
// location).
func (s *Shop) StockLine(tb testing.TB, sku, variantKey, locationID string, onHand int64) {
	tb.Helper()
	_, err := s.Ledger.Adjust(context.Background(), s.ID, inventory.AdjustRequest{
		Reference: "fixture",
		Changes:   []inventory.StockChange{{SKU: sku, VariantKey: variantKey, LocationID: locationID, Op: inventory.OpSet, Quantity: onHand}},
	})
	if err != nil {
		tb.Fatalf("stock %s %s[%s]@%s: %v", s.ID, sku, variantKey, locationID, err)
	}
}

// Location adds a location named after its id.
func (s *Shop) Location(tb testing.TB, id string, priority int64) {
	tb.Helper()
	if _, err := s.Ledger.AddLocation(context.Background(), s.ID, id, id, priority); err != nil {
		tb.Fatalf("add location %s to %s: %v", id, s.ID, err)
	}
}

// HoldOpts are a fixture hold's settings.
type HoldOpts struct {
	// Lines are what the hold takes; required.
	Lines []inventory.Line
	// TTL defaults to an hour.
	TTL time.Duration
	// Reference defaults to none.
	Reference string
}

// Reserve places a hold and fails the test unless it is made.
func (s *Shop) Reserve(tb testing.TB, opts HoldOpts) *inventory.Hold {
	tb.Helper()
	if opts.TTL == 0 {
		opts.TTL = time.Hour
	}
	h, _, err := s.Ledger.Reserve(context.Background(), s.ID, inventory.ReserveRequest{Items: opts.Lines, TTL: opts.TTL, Reference: opts.Reference})
	if err != nil {
		tb.Fatalf("reserve %v in %s: %v", opts.Lines, s.ID, err)
	}
	return h
}

// Hold reserves qty of each sku for ttl (an hour when zero).
func (s *Shop) Hold(tb testing.TB, ttl time.Duration, qty int64, skus ...string) *inventory.Hold {
	tb.Helper()
	lines := make([]inventory.Line, len(skus))
	for i, sku := range skus {
		lines[i] = inventory.Line{SKU: sku, Quantity: qty}
	}
	return s.Reserve(tb, HoldOpts{Lines: lines, TTL: ttl})
}

// Commit commits a hold: the sale of its units.
func (s *Shop) Commit(tb testing.TB, holdID string) *inventory.Hold {
	tb.Helper()
	h, err := s.Ledger.Commit(context.Background(), s.ID, holdID, "fixture")
	if err != nil {
		tb.Fatalf("commit %s: %v", holdID, err)
	}
	return h
}

// Release releases a hold, giving its units back.
func (s *Shop) Release(tb testing.TB, holdID string) *inventory.Hold {
	tb.Helper()
	h, err := s.Ledger.Release(context.Background(), s.ID, holdID, "fixture")
	if err != nil {
		tb.Fatalf("release %s: %v", holdID, err)
	}
	return h
}

// Info is the stock of a line.
func (s *Shop) Info(tb testing.TB, sku, variantKey string) *inventory.StockInfo {
	tb.Helper()
	info, err := s.Ledger.StockInfo(context.Background(), s.ID, sku, variantKey)
	if err != nil {
		tb.Fatalf("stock info %s[%s]: %v", sku, variantKey, err)
	}
	return info
}

// RequireLedgerClean fails the test unless every stock row of the shop adds
// up with its movements and holds.
func (s *Shop) RequireLedgerClean(tb testing.TB) {
	tb.Helper()
	RequireLedgerClean(tb, s.Ledger, s.ID)
}

// RequireLedgerClean fails the test unless every stock row of shopID adds up
// with its movements and holds (Ledger.CheckLedger finds nothing).
func RequireLedgerClean(tb testing.TB, ledger *inventory.Ledger, shopID string) {
	tb.Helper()
	report, err := ledger.CheckLedger(context.Background(), shopID)
	if err != nil {
		tb.Fatalf("check ledger of %s: %v", shopID, err)
	}
	for _, d := range report.Discrepancies {
		tb.Errorf("ledger discrepancy: %s", d)
	}
}
