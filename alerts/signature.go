package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The headers that sign the webhook channel's body.
//
// X-Checkoutd-Timestamp is the time of sending in Unix seconds, fresh on
// every attempt. X-Checkoutd-Signature is "v1=" followed by the lowercase
// hex HMAC-SHA256, keyed with ALERT_WEBHOOK_SECRET, of the timestamp, a
// ".", and the raw body, exactly as received:
//
//	v1=hex(HMAC-SHA256(secret, timestamp + "." + body))
//
// A receiver recomputes it over the bytes it received (before any JSON
// decoding), compares in constant time, and refuses timestamps too far from
// its own clock, which stops replays of an old delivery. VerifySignature
// does all of that. The header may carry several comma-separated
// signatures; one match is enough.
const (
	TimestampHeader = "X-Checkoutd-Timestamp"
	SignatureHeader = "X-Checkoutd-Signature"
)

// DefaultTolerance is how far from the receiver's clock VerifySignature
// accepts a timestamp when given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Errors of VerifySignature.
var (
	// ErrBadTimestamp: the timestamp is not Unix seconds, or too far from
	// now.
	ErrBadTimestamp = errors.New("alerts: webhook timestamp missing, malformed or outside the tolerance")
	// ErrBadSignature: no v1 signature matches the body under the secret.
	ErrBadSignature = errors.New("alerts: webhook signature does not match")
)

// Sign returns the X-Checkoutd-Signature header of body sent at timestamp
// (Unix seconds, as in X-Checkoutd-Timestamp).
func Sign(secret, timestamp string, body []byte) string {
	return "v1=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks a webhook delivery: timestamp and header are the
// X-Checkoutd-Timestamp and X-Checkoutd-Signature headers, body the raw
// body. It returns ErrBadTimestamp when the timestamp is more than
// tolerance from now (DefaultTolerance when tolerance ≤ 0), and
// ErrBadSignature when no signature in header matches.
func VerifySignature(secret, timestamp string, body []byte, header string, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if age := time.Since(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return ErrBadTimestamp
	}
	want := mac(secret, timestamp, body)
	for part := range strings.SplitSeq(header, ",") {
		sig, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		got, err := hex.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}
