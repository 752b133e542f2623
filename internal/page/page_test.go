package page

import (
	"encoding/base64"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	for _, tt := range []struct {
		in, want int
		ok       bool
	}{{0, DefaultLimit, true}, {1, 1, true}, {MaxLimit, MaxLimit, true}, {-1, -1, false}, {MaxLimit + 1, MaxLimit + 1, false}} {
		if got, ok := Limit(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Limit(%d) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAfterRoundTrip(t *testing.T) {
	a := After{CreatedAt: time.Date(2026, 11, 21, 12, 0, 0, 123456000, time.UTC), ID: "alr_x"}
	got, err := ParseAfter(a.Cursor())
	if err != nil || !got.CreatedAt.Equal(a.CreatedAt) || got.ID != a.ID {
		t.Fatalf("ParseAfter(Cursor()) = %+v, %v; want %+v", got, err, a)
	}
	first, err := ParseAfter("")
	if err != nil || first.CreatedAt.Year() != 9999 {
		t.Errorf(`ParseAfter("") = %+v, %v`, first, err)
	}
	for _, bad := range []string{"!!", EncodeCursor(map[string]string{"t": "x"}), EncodeCursor(After{CreatedAt: a.CreatedAt})} {
		if _, err := ParseAfter(bad); err == nil {
			t.Errorf("ParseAfter(%q) accepted a cursor it never made", bad)
		}
	}
}

// A crafted cursor with a string PostgreSQL cannot store is refused before
// anything reads it.
func TestDecodeCursorRefusesNonText(t *testing.T) {
	for _, raw := range []string{
		`{"t":"2026-01-01T00:00:00Z","id":"a\u0000"}`,
		"{\"t\":\"2026-01-01T00:00:00Z\",\"id\":\"\xff\"}",
		`{"t":"2026-01-01T00:00:00Z","id":"x","\u0000":1}`,
		`["\u0000"]`,
	} {
		var a After
		if err := DecodeCursor(base64.RawURLEncoding.EncodeToString([]byte(raw)), &a); err == nil {
			t.Errorf("DecodeCursor(%q) accepted it: %+v", raw, a)
		}
	}
	var s struct{ V string }
	if err := DecodeCursor(EncodeCursor(map[string]string{"V": "size:M,ü"}), &s); err != nil || s.V != "size:M,ü" {
		t.Errorf("a cursor of text: %+v, %v", s, err)
	}
}
