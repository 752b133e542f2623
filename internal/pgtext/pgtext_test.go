package pgtext_test

import (
	"testing"

	"github.com/checkoutd/checkoutd/internal/pgtext"
)

func TestValid(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"":               true,
		"cart-42":        true,
		"size:M,ü,🛒":     true,
		"\x00":           false,
		"a\x00b":         false,
		"\xff":           false,
		"\xc3\x28":       false,
		"ok\xed\xa0\x80": false, // a UTF-16 surrogate encoded as UTF-8
	} {
		if got := pgtext.Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}
