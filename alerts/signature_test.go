package alerts_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/alerts"
)

// The signature is what the documentation says, so a receiver in any
// language can check it: v1= and the hex HMAC-SHA256 of "<timestamp>.<body>".
func TestSignFormat(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"low_stock"}`)
	m := hmac.New(sha256.New, []byte("secret"))
	m.Write([]byte("1767225600." + string(body)))
	want := "v1=" + hex.EncodeToString(m.Sum(nil))
	if got := alerts.Sign("secret", "1767225600", body); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"oversold","alertId":"alr_x"}`)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	at := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }
	good := alerts.Sign("secret", now, body)
	tests := []struct {
		name      string
		secret    string
		timestamp string
		body      []byte
		header    string
		tolerance time.Duration
		want      error
	}{
		{"valid", "secret", now, body, good, 0, nil},
		{"one of several", "secret", now, body, alerts.Sign("old", now, body) + ", " + good, 0, nil},
		{"wrong secret", "other", now, body, good, 0, alerts.ErrBadSignature},
		{"changed body", "secret", now, []byte(`{"type":"oversold","alertId":"alr_y"}`), good, 0, alerts.ErrBadSignature},
		{"another timestamp", "secret", at(-time.Second), body, good, 0, alerts.ErrBadSignature},
		{"no scheme", "secret", now, body, good[len("v1="):], 0, alerts.ErrBadSignature},
		{"not hex", "secret", now, body, "v1=zz", 0, alerts.ErrBadSignature},
		{"empty header", "secret", now, body, "", 0, alerts.ErrBadSignature},
		{"stale", "secret", at(-6 * time.Minute), body, alerts.Sign("secret", at(-6*time.Minute), body), 0, alerts.ErrBadTimestamp},
		{"from the future", "secret", at(6 * time.Minute), body, alerts.Sign("secret", at(6*time.Minute), body), 0, alerts.ErrBadTimestamp},
		{"within a wider tolerance", "secret", at(-6 * time.Minute), body, alerts.Sign("secret", at(-6*time.Minute), body), 10 * time.Minute, nil},
		{"not a timestamp", "secret", "yesterday", body, alerts.Sign("secret", "yesterday", body), 0, alerts.ErrBadTimestamp},
		{"no timestamp", "secret", "", body, alerts.Sign("secret", "", body), 0, alerts.ErrBadTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := alerts.VerifySignature(tt.secret, tt.timestamp, tt.body, tt.header, tt.tolerance)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
}
