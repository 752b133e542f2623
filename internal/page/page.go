// Package page holds the rules every list of the API pages by: the page
// size a request may ask for, and opaque cursors that say where the next
// page starts.
package page

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/checkoutd/checkoutd/internal/pgtext"
)

// Page sizes of every list.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// LimitIssue says what a bad limit must be instead.
var LimitIssue = fmt.Sprintf("must be from 1 to %d", MaxLimit)

// CursorIssue says what is wrong with a cursor that does not decode.
const CursorIssue = "is not a cursor this endpoint returned"

// Limit returns the page size for a requested limit, 0 meaning the default,
// and whether the request is allowed.
func Limit(requested int) (int, bool) {
	if requested == 0 {
		return DefaultLimit, true
	}
	return requested, requested >= 1 && requested <= MaxLimit
}

// EncodeCursor encodes v (JSON) as an opaque cursor.
func EncodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor EncodeCursor made into v. Cursors are opaque
// but not secret, so a client can craft one: a cursor holding a string
// PostgreSQL cannot store (pgtext) is refused like any other that
// EncodeCursor did not make.
func DecodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("decode cursor: %w", err)
	}
	// encoding/json would quietly replace invalid UTF-8, so it is checked
	// on the bytes, and NUL (\u0000) on the decoded strings.
	var tree any
	if !utf8.Valid(b) || json.Unmarshal(b, &tree) != nil || !textOnly(tree) {
		return errors.New("decode cursor: not a cursor of this service")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode cursor: %w", err)
	}
	return nil
}

// textOnly reports whether every string in a decoded JSON value, object
// keys included, is valid text.
func textOnly(tree any) bool {
	switch node := tree.(type) {
	case string:
		return pgtext.Valid(node)
	case map[string]any:
		for k, v := range node {
			if !pgtext.Valid(k) || !textOnly(v) {
				return false
			}
		}
	case []any:
		for _, v := range node {
			if !textOnly(v) {
				return false
			}
		}
	}
	return true
}

// After is a position in a list ordered newest first by (created_at, id):
// the last item of the previous page. Items created at the same instant are
// never split or skipped.
type After struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"id"`
}

// ParseAfter reads the cursor of a (created_at, id) list; "" is the
// position before the newest item there could be.
func ParseAfter(cursor string) (After, error) {
	if cursor == "" {
		return After{CreatedAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, nil
	}
	var a After
	if err := DecodeCursor(cursor, &a); err != nil {
		return After{}, err
	}
	if a.ID == "" {
		return After{}, errors.New("decode cursor: no id")
	}
	return a, nil
}

// Cursor encodes a as the cursor of the next page.
func (a After) Cursor() string { return EncodeCursor(a) }
