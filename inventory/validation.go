package inventory

import (
	"fmt"
	"regexp"
	"unicode"
	"unicode/utf8"

	"github.com/checkoutd/checkoutd/internal/pgtext"
)

// Limits every request is held to. They match the HTTP contract, and hold
// whether the request came over HTTP or from Go.
const (
	MaxQuantity      = 1_000_000
	MaxItems         = 100
	MaxTTLSeconds    = 86_400
	maxVariantKeyLen = 128
	maxTextLen       = 255
	maxNotesLen      = 1000
)

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	skuPattern = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,64}$`)
)

// checker collects every problem with a request, so the caller hears about
// all of them at once rather than one per round trip.
type checker struct {
	issues []FieldIssue
}

func (c *checker) add(field, format string, args ...any) {
	c.issues = append(c.issues, FieldIssue{Field: field, Issue: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.issues) == 0 {
		return nil
	}
	return &ValidationError{Details: c.issues}
}

func (c *checker) id(field, v string) {
	if !idPattern.MatchString(v) {
		c.add(field, "must match ^[a-z0-9][a-z0-9_-]{0,63}$")
	}
}

func (c *checker) sku(field, v string) {
	if !skuPattern.MatchString(v) {
		c.add(field, "must be 1-64 characters from A-Z a-z 0-9 . _ : / -")
	}
}

func (c *checker) variantKey(field, v string) {
	if !validVariantKey(v) {
		c.add(field, "must be empty or 1-128 printable characters")
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

func validVariantKey(v string) bool {
	if v == "" {
		return true
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxVariantKeyLen {
		return false
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// ValidShopID reports whether id is a well-formed shop or location id.
func ValidShopID(id string) bool { return idPattern.MatchString(id) }
