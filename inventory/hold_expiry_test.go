package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/inventory"
)

// A hold's expiry is stored in whole seconds, rounded down, so the time the
// API shows is the true one: by Reserve, by Extend (at the 86,400 s cap
// too) and by AwaitPayment, and never later than the TTL or the cap allow.
func TestHoldExpiryWholeSeconds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)

	whole := func(what string, h *inventory.Hold, notBefore, notAfter time.Time) {
		t.Helper()
		if h.ExpiresAt.Nanosecond() != 0 {
			t.Errorf("%s: expiresAt %s has a fraction of a second", what, h.ExpiresAt.Format(time.RFC3339Nano))
		}
		if h.ExpiresAt.Before(notBefore) || h.ExpiresAt.After(notAfter) {
			t.Errorf("%s: expiresAt %s, want within [%s, %s]", what, h.ExpiresAt.Format(time.RFC3339Nano),
				notBefore.Format(time.RFC3339Nano), notAfter.Format(time.RFC3339Nano))
		}
	}

	for _, ttl := range []time.Duration{time.Second, 7 * time.Second, inventory.MaxTTLSeconds * time.Second} {
		start := time.Now()
		h, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 1)}, TTL: ttl})
		if err != nil {
			t.Fatalf("Reserve with TTL %s: %v", ttl, err)
		}
		// Rounded down: at most a second short of the TTL, never past it.
		whole("Reserve "+ttl.String(), h, start.Add(ttl-time.Second), time.Now().Add(ttl))
		if got := f.hold(t, h.ID); !got.ExpiresAt.Equal(h.ExpiresAt) {
			t.Errorf("GetHold expiresAt %s, Reserve said %s", got.ExpiresAt, h.ExpiresAt)
		}
	}

	h, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 1)}, TTL: time.Minute})
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	extended, err := f.ledger.Extend(ctx, f.shopID, h.ID, 90*time.Second)
	if err != nil {
		t.Fatalf("Extend: %v", err)
	}
	whole("Extend", extended, h.ExpiresAt.Add(90*time.Second), h.ExpiresAt.Add(90*time.Second))

	start := time.Now()
	capped, err := f.ledger.Extend(ctx, f.shopID, h.ID, inventory.MaxTTLSeconds*time.Second)
	if err != nil {
		t.Fatalf("Extend to the cap: %v", err)
	}
	whole("Extend to the cap", capped, start.Add(inventory.MaxTTLSeconds*time.Second-time.Second), time.Now().Add(inventory.MaxTTLSeconds*time.Second))

	pending := f.reserve(t, item("A", 1))
	start = time.Now()
	awaited, err := f.ledger.AwaitPayment(ctx, f.shopID, pending.ID, 72*time.Hour)
	if err != nil {
		t.Fatalf("AwaitPayment: %v", err)
	}
	whole("AwaitPayment", awaited, start.Add(72*time.Hour-time.Second), time.Now().Add(72*time.Hour))
}
