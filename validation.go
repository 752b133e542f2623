package checkoutd

import (
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

// The identifier rules are checked byte by byte rather than by regexp:
// every request checks its shop id and SKUs, and a loop is a tenth of the
// cost. FuzzIdentifierRulesMatchTheirPatterns holds them to the patterns
// IDIssue and the schema's CHECK constraints state.

// ValidShopID reports whether id is a well-formed shop id: 1-64 characters
// from a-z 0-9 _ -, starting with a letter or digit.
func ValidShopID(id string) bool {
	if len(id) == 0 || len(id) > 64 || id[0] == '_' || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidLocationID reports whether id is a well-formed location id; the rule
// is a shop id's.
func ValidLocationID(id string) bool { return ValidShopID(id) }

// ValidSKU reports whether sku is a well-formed SKU: 1-64 characters from
// A-Z a-z 0-9 . _ : / -.
func ValidSKU(sku string) bool {
	if len(sku) == 0 || len(sku) > 64 {
		return false
	}
	for i := 0; i < len(sku); i++ {
		switch c := sku[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '.' || c == '_' || c == ':' || c == '/' || c == '-':
		default:
			return false
		}
	}
	return true
}

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
