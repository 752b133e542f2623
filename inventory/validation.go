package inventory

import (
	"fmt"
	"unicode/utf8"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/pgtext"
)

// Limits every request is held to. They match the HTTP contract, and hold
// whether the request came over HTTP or from Go.
const (
	MaxQuantity   = 1_000_000
	MaxItems      = 100
	MaxTTLSeconds = 86_400
	maxTextLen    = 255
	maxNotesLen   = 1000
)

// checker collects every problem with a request, so the caller hears about
// all of them at once rather than one per round trip.
type checker struct {
	issues []checkoutd.FieldIssue
}

func (c *checker) add(field, format string, args ...any) {
	c.issues = append(c.issues, checkoutd.FieldIssue{Field: field, Issue: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.issues) == 0 {
		return nil
	}
	return &checkoutd.ValidationError{Details: c.issues}
}

func (c *checker) shopID(field, v string) {
	if !checkoutd.ValidShopID(v) {
		c.add(field, checkoutd.IDIssue)
	}
}

func (c *checker) locationID(field, v string) {
	if !checkoutd.ValidLocationID(v) {
		c.add(field, checkoutd.IDIssue)
	}
}

func (c *checker) sku(field, v string) {
	if !checkoutd.ValidSKU(v) {
		c.add(field, checkoutd.SKUIssue)
	}
}

func (c *checker) variantKey(field, v string) {
	if !checkoutd.ValidVariantKey(v) {
		c.add(field, checkoutd.VariantKeyIssue)
	}
}

func (c *checker) quantity(field string, v int64, min int64) {
	if v < min || v > MaxQuantity {
		c.add(field, "must be an integer from %d to %d", min, MaxQuantity)
	}
}

func (c *checker) text(field, v string, max int) {
	if utf8.RuneCountInString(v) > max || !pgtext.Valid(v) {
		c.add(field, "must be valid UTF-8 text without NUL characters, at most %d of them", max)
	}
}

func (c *checker) itemCount(field string, n int) {
	switch {
	case n == 0:
		c.add(field, "must have at least one item")
	case n > MaxItems:
		c.add(field, "must have at most %d items", MaxItems)
	}
}
