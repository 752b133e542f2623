package checkoutd

import (
	"regexp"
	"unicode"
	"unicode/utf8"
)

// The identifier rules' words in a FieldIssue, for a value the matching Valid
// function refuses.
const (
	IDIssue         = "must match ^[a-z0-9][a-z0-9_-]{0,63}$"
	SKUIssue        = "must be 1-64 characters from A-Z a-z 0-9 . _ : / -"
	VariantKeyIssue = "must be empty or 1-128 printable characters"
)

const maxVariantKeyLen = 128

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	skuPattern = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,64}$`)
)

// ValidShopID reports whether id is a well-formed shop id: 1-64 characters
// from a-z 0-9 _ -, starting with a letter or digit.
func ValidShopID(id string) bool { return idPattern.MatchString(id) }

// ValidLocationID reports whether id is a well-formed location id; the rule
// is a shop id's.
func ValidLocationID(id string) bool { return idPattern.MatchString(id) }

// ValidSKU reports whether sku is a well-formed SKU: 1-64 characters from
// A-Z a-z 0-9 . _ : / -.
func ValidSKU(sku string) bool { return skuPattern.MatchString(sku) }

// ValidVariantKey reports whether key is a well-formed variant key: empty
// (the line has no variants) or 1-128 printable characters.
func ValidVariantKey(key string) bool {
	if key == "" {
		return true
	}
	if !utf8.ValidString(key) || utf8.RuneCountInString(key) > maxVariantKeyLen {
		return false
	}
	for _, r := range key {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
