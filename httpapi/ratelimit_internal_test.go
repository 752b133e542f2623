package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestShopLimiter(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T, limit RateLimit) (*bucketLimiter, *fakeClock) {
		t.Helper()
		clock := &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
		return newBucketLimiter(limit, clock.now), clock
	}
	// take fails the test unless shop's request is let through (wait 0) or
	// refused with wait.
	take := func(t *testing.T, l *bucketLimiter, shop string, wait time.Duration) {
		t.Helper()
		got, ok := l.take(shop)
		if ok != (wait == 0) || got != wait {
			t.Fatalf("take(%s) = %v, %v; want wait %v", shop, got, ok, wait)
		}
	}

	t.Run("burst, then refill at the rate", func(t *testing.T) {
		t.Parallel()
		l, clock := setup(t, RateLimit{PerSecond: 2, Burst: 3})
		for range 3 {
			take(t, l, "a", 0)
		}
		take(t, l, "a", 500*time.Millisecond)
		clock.advance(200 * time.Millisecond)
		take(t, l, "a", 300*time.Millisecond)
		clock.advance(300 * time.Millisecond)
		take(t, l, "a", 0)
		take(t, l, "a", 500*time.Millisecond)
		// Idle for long, a bucket holds its burst and no more.
		clock.advance(time.Hour)
		for range 3 {
			take(t, l, "a", 0)
		}
		take(t, l, "a", 500*time.Millisecond)
	})

	t.Run("shops are independent", func(t *testing.T) {
		t.Parallel()
		l, _ := setup(t, RateLimit{PerSecond: 1, Burst: 1})
		take(t, l, "a", 0)
		take(t, l, "a", time.Second)
		take(t, l, "b", 0)
		take(t, l, "b", time.Second)
	})

	t.Run("full buckets are swept", func(t *testing.T) {
		t.Parallel()
		l, clock := setup(t, RateLimit{PerSecond: 100, Burst: 200})
		for i := range 10_000 {
			take(t, l, fmt.Sprint("shop-", i), 0)
		}
		if len(l.buckets) != 10_000 {
			t.Fatalf("%d buckets, want 10000", len(l.buckets))
		}
		// A shop still refilling keeps its bucket, and what it spent.
		clock.advance(l.refill / 2)
		for range 200 {
			take(t, l, "busy", 0)
		}
		clock.advance(l.refill / 2)
		take(t, l, "busy", 0)
		if len(l.buckets) != 1 {
			t.Fatalf("%d buckets after a refill time, want only the busy shop's", len(l.buckets))
		}
		if tokens := l.buckets["busy"].tokens; tokens != 99 {
			t.Errorf("busy shop has %v requests left, want 99 (100 refilled in 1 s, 1 spent)", tokens)
		}
	})

	t.Run("zero is off", func(t *testing.T) {
		t.Parallel()
		if l := newBucketLimiter(RateLimit{}, time.Now); l != nil {
			t.Errorf("newBucketLimiter(RateLimit{}) = %+v, want nil", l)
		}
	})
}

// benchmarkAPI is an API with only what the limit middleware needs.
func benchmarkAPI(limit RateLimit) *API {
	return New(nil, nil, Config{RateLimit: limit}, slog.New(slog.DiscardHandler))
}

// BenchmarkRateLimit measures what the per-shop budget adds to a request
// that is let through: "off" is the middleware with the budget turned off,
// "on" with a budget no request exhausts, one shop; "on-1000-shops-parallel"
// spreads the requests over 1,000 shops from GOMAXPROCS goroutines, all
// contending for the one lock.
func BenchmarkRateLimit(b *testing.B) {
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	request := func(shop string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/inventory/shops/"+shop+"/stock/SKU-1", nil)
		return r.WithContext(context.WithValue(r.Context(), principalKey{}, principal{shopID: shop}))
	}
	plenty := RateLimit{PerSecond: 1e12, Burst: 1 << 30}

	b.Run("off", func(b *testing.B) {
		h, r, w := benchmarkAPI(RateLimit{}).limit(noop), request("acme"), httptest.NewRecorder()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("on", func(b *testing.B) {
		h, r, w := benchmarkAPI(plenty).limit(noop), request("acme"), httptest.NewRecorder()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("on-1000-shops-parallel", func(b *testing.B) {
		h := benchmarkAPI(plenty).limit(noop)
		requests := make([]*http.Request, 1000)
		for i := range requests {
			requests[i] = request(fmt.Sprint("shop-", i))
		}
		b.RunParallel(func(pb *testing.PB) {
			w := httptest.NewRecorder()
			for i := 0; pb.Next(); i++ {
				h.ServeHTTP(w, requests[i%len(requests)])
			}
		})
	})
}
