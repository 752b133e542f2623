// Package ids makes the identifiers checkoutd gives the things it creates:
// a prefix naming the kind ("hold_", "chk_", "ovs_") and 128 random bits,
// so ids never collide across replicas and reveal nothing.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns prefix followed by 26 lowercase base32 characters.
func New(prefix string) string {
	var b [16]byte
	// crypto/rand.Read never fails.
	_, _ = rand.Read(b[:])
	return prefix + strings.ToLower(encoding.EncodeToString(b[:]))
}
