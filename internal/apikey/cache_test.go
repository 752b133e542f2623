package apikey_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/testdb"
)

// clock is a time the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) get() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestVerifiedKeyCache: a key that verified is trusted for the TTL without
// a lookup, so a revocation made elsewhere (another process: here, straight
// in the database) takes effect here within the TTL and no later; a
// revocation through the same Store takes effect at once.
func TestVerifiedKeyCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, shop := newShop(t)
	c := &clock{now: time.Now()}
	apikey.SetClock(store, c.get)
	token, key, err := store.Create(ctx, shop, "edge")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := store.Verify(ctx, token); err != nil || got != shop {
		t.Fatalf("verify = %q, %v", got, err)
	}
	if _, err := testdb.Pool(t).Exec(ctx, "UPDATE api_keys SET revoked_at = now() WHERE shop_id = $1 AND id = $2", shop, key.ID); err != nil {
		t.Fatal(err)
	}
	c.add(apikey.DefaultVerifyCacheTTL - time.Millisecond)
	if got, err := store.Verify(ctx, token); err != nil || got != shop {
		t.Errorf("within the TTL of a revocation made elsewhere: verify = %q, %v; want the cached answer", got, err)
	}
	c.add(time.Millisecond)
	if _, err := store.Verify(ctx, token); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("a TTL after a revocation made elsewhere: verify = %v, want ErrInvalid", err)
	}

	// Revoked through the Store that verified it: at once.
	token2, key2, err := store.Create(ctx, shop, "edge 2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Verify(ctx, token2); err != nil {
		t.Fatal(err)
	}
	if err := store.Revoke(ctx, shop, key2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Verify(ctx, token2); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("verify right after Revoke = %v, want ErrInvalid", err)
	}

	// A wrong secret is never answered from the cache of the right one.
	token3, _, err := store.Create(ctx, shop, "edge 3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Verify(ctx, token3); err != nil {
		t.Fatal(err)
	}
	wrong := token3[:len(token3)-1] + "x"
	if wrong == token3 {
		wrong = token3[:len(token3)-1] + "y"
	}
	if _, err := store.Verify(ctx, wrong); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("a wrong secret of a cached key = %v, want ErrInvalid", err)
	}
}
