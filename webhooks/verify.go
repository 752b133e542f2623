package webhooks

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"
)

// ErrInvalidSignature is returned by Verify for a payload that no configured
// secret signed, a signature dated more than the tolerance in the past or in
// the future, or a body that is not a Stripe event.
var ErrInvalidSignature = errors.New("invalid Stripe signature")

// DefaultTolerance is how far a signature's time may be from now, either
// way (Stripe's default, which stripe-go applies only to the past).
const DefaultTolerance = 300 * time.Second

// Verifier checks Stripe-Signature headers against one or more endpoint
// secrets (several during a rotation: any match passes).
type Verifier struct {
	secrets   []string
	tolerance time.Duration
}

// NewVerifier returns a Verifier for the comma-separated secrets
// (STRIPE_WEBHOOK_SECRET).
func NewVerifier(secrets string, tolerance time.Duration) *Verifier {
	v := &Verifier{tolerance: tolerance}
	for _, s := range strings.Split(secrets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			v.secrets = append(v.secrets, s)
		}
	}
	return v
}

// Verify checks payload's signature and decodes the event.
//
// stripe-go v79 speaks API version 2024-06-20 and refuses events of other
// versions by default. The mismatch is ignored on purpose: checkoutd reads
// only fields that are stable across versions (the session's id, status,
// payment_status, payment_intent and metadata), and the event's version is
// kept with it in the inbox. Create the webhook endpoint with
// --api-version 2024-06-20 anyway (see README).
func (v *Verifier) Verify(payload []byte, header string) (stripe.Event, error) {
	if len(v.secrets) == 0 {
		return stripe.Event{}, fmt.Errorf("%w: no webhook secret is configured", ErrInvalidSignature)
	}
	// stripe-go refuses signatures older than the tolerance but takes any
	// from the future: one dated ahead would stay replayable until then.
	if at, ok := signedAt(header); ok && time.Until(at) > v.toleranceOrDefault() {
		return stripe.Event{}, fmt.Errorf("%w: signed %s in the future", ErrInvalidSignature, time.Until(at).Round(time.Second))
	}
	var lastErr error
	for _, secret := range v.secrets {
		ev, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
			Tolerance:                v.tolerance,
			IgnoreAPIVersionMismatch: true,
		})
		if err == nil {
			// Stripe never sends a NUL character, and PostgreSQL text cannot
			// store one: such a body is refused, not retried forever.
			if ev.ID == "" || ev.Type == "" || bytes.Contains(payload, []byte(`\u0000`)) {
				return stripe.Event{}, fmt.Errorf("%w: not a Stripe event", ErrInvalidSignature)
			}
			return ev, nil
		}
		lastErr = err
	}
	return stripe.Event{}, fmt.Errorf("%w: %w", ErrInvalidSignature, lastErr)
}

func (v *Verifier) toleranceOrDefault() time.Duration {
	if v.tolerance <= 0 {
		return DefaultTolerance
	}
	return v.tolerance
}

// signedAt reads the time a Stripe-Signature header says it was made ("t="),
// the last one if there are several, as stripe-go does.
func signedAt(header string) (time.Time, bool) {
	var at time.Time
	found := false
	for _, pair := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(pair, "t="); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			at, found = time.Unix(sec, 0), true
		}
	}
	return at, found
}
