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

// DecodeCursor reads a cursor EncodeCursor made into v.
func DecodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("decode cursor: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode cursor: %w", err)
	}
	return nil
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
