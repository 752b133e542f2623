package checkoutd_test

import (
	"regexp"
	"testing"

	"github.com/checkoutd/checkoutd"
)

// The identifier rules, as the patterns IDIssue states and the schema's
// CHECK constraints enforce.
var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	skuPattern = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,64}$`)
)

// The byte loops of ValidShopID, ValidLocationID and ValidSKU accept
// exactly what their patterns do.
func FuzzIdentifierRulesMatchTheirPatterns(f *testing.F) {
	for _, s := range []string{"", "a", "acme", "_a", "-a", "a_-9", "A", "SHIRT-01/blue", "shirt 01", "a\n",
		"é", "0123456789012345678901234567890123456789012345678901234567890123", "x.y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := checkoutd.ValidShopID(s), idPattern.MatchString(s); got != want {
			t.Errorf("ValidShopID(%q) = %v; the pattern says %v", s, got, want)
		}
		if got, want := checkoutd.ValidLocationID(s), idPattern.MatchString(s); got != want {
			t.Errorf("ValidLocationID(%q) = %v; the pattern says %v", s, got, want)
		}
		if got, want := checkoutd.ValidSKU(s), skuPattern.MatchString(s); got != want {
			t.Errorf("ValidSKU(%q) = %v; the pattern says %v", s, got, want)
		}
	})
}

// Lengths at and past the bounds, which the fuzz seeds reach only by luck.
func TestIdentifierRulesAtTheirBounds(t *testing.T) {
	for n := 0; n <= 66; n++ {
		id := make([]byte, n)
		for i := range id {
			id[i] = 'a'
		}
		if got, want := checkoutd.ValidShopID(string(id)), idPattern.Match(id); got != want {
			t.Errorf("ValidShopID of %d characters = %v; want %v", n, got, want)
		}
		if got, want := checkoutd.ValidSKU(string(id)), skuPattern.Match(id); got != want {
			t.Errorf("ValidSKU of %d characters = %v; want %v", n, got, want)
		}
	}
}
