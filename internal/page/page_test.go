package page

import (
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
