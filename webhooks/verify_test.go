package webhooks_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/webhooks"
)

// A signature dated more than the tolerance ahead is refused like a stale
// one (stripe-go checks only the past); within it, either way, it passes.
func TestVerifyRefusesFutureSignatures(t *testing.T) {
	t.Parallel()
	v := webhooks.NewVerifier(secret, webhooks.DefaultTolerance)
	payload := []byte(`{"id": "evt_future", "object": "event", "type": "checkout.session.completed", "data": {"object": {}}}`)
	now := time.Now()
	for name, tc := range map[string]struct {
		header string
		ok     bool
	}{
		"now":          {sign(payload, secret, now), true},
		"4 min ago":    {sign(payload, secret, now.Add(-4*time.Minute)), true},
		"4 min ahead":  {sign(payload, secret, now.Add(4*time.Minute)), true},
		"6 min ago":    {sign(payload, secret, now.Add(-6*time.Minute)), false},
		"6 min ahead":  {sign(payload, secret, now.Add(6*time.Minute)), false},
		"a year ahead": {sign(payload, secret, now.AddDate(1, 0, 0)), false},
		"year 9999":    {sign(payload, secret, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), false},
		"an earlier t= before a future one": {
			// stripe-go reads the last t=, and so does the check.
			fmt.Sprintf("t=%d,", now.Unix()) + sign(payload, secret, now.AddDate(0, 0, 1)), false,
		},
	} {
		_, err := v.Verify(payload, tc.header)
		if tc.ok && err != nil {
			t.Errorf("%s: %v, want it verified", name, err)
		}
		if !tc.ok && !errors.Is(err, webhooks.ErrInvalidSignature) {
			t.Errorf("%s: %v, want ErrInvalidSignature", name, err)
		}
	}
}
