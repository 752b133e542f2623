package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/checkoutd/checkoutd"
)

// RateLimit is a request budget: a token bucket holding up to Burst
// requests, refilled at PerSecond. Every shop has one of its own, whichever
// token acts on it (Config.RateLimit), and so has every client IP on the
// public routes (PublicConfig.RateLimit). PerSecond 0 turns the budget off.
type RateLimit struct {
	// PerSecond is how many requests a second a shop (or client) may make
	// on average.
	PerSecond float64
	// Burst is how many requests a shop (or client) may make at once after
	// being idle.
	Burst int
}

// rateLimitedError is a request over a budget: its shop's, or on the
// public routes its client's.
type rateLimitedError struct {
	// retryAfter is how long until the bucket holds a request again.
	retryAfter time.Duration
	// whose names the budget for the message: "this shop's request budget"
	// when empty.
	whose string
}

func (e *rateLimitedError) Error() string {
	return e.budget() + " is spent; retry after " + e.retryAfter.String()
}

// budget names the budget that is spent.
func (e *rateLimitedError) budget() string {
	if e.whose == "" {
		return "this shop's request budget"
	}
	return e.whose
}

// budgetShop is the shop whose budget a request spends, given the shop the
// route names ("" when it names none yet): a shop key always spends its own
// shop's, since it can act on no other (naming another answers 404, and must
// neither drain that shop's budget nor make a bucket per id a key names);
// the service token spends the named shop's. "" means no budget applies.
func budgetShop(ctx context.Context, named string) string {
	p, _ := ctx.Value(principalKey{}).(principal)
	switch {
	case p.shopID != "":
		return p.shopID
	case p.service && checkoutd.ValidShopID(named):
		return named
	}
	return ""
}

// limit charges each request to the budget of its shop (see budgetShop),
// named in the path, and answers 429 rate_limited once it is spent. It runs
// after authenticate. On routes naming the shop in the body a shop key is
// charged here, and the service token by limitBody once the body is read.
func (a *API) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// With the budget off, the shop need not be worked out at all.
		if a.limiter != nil && !a.spend(w, r, budgetShop(r.Context(), pathVar(r, "shopId"))) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody charges a service-token request to the budget of shopID, the
// shop its body names, answering 429 when that is spent; a shop key's
// request was charged by limit. It reports whether the request may go on.
func (a *API) limitBody(w http.ResponseWriter, r *http.Request, shopID string) bool {
	if p, _ := r.Context().Value(principalKey{}).(principal); !p.service {
		return true
	}
	return a.spend(w, r, budgetShop(r.Context(), shopID))
}

// spend takes one request from shop's bucket ("" and a turned-off limit
// take nothing), or counts and answers the refusal and reports false.
func (a *API) spend(w http.ResponseWriter, r *http.Request, shop string) bool {
	return a.spendFrom(w, r, a.limiter, shop, "")
}

// spendFrom takes one request from key's bucket in l (a nil l and an
// empty key take nothing), or counts and answers the refusal, naming the
// budget whose (see rateLimitedError), and reports false.
func (a *API) spendFrom(w http.ResponseWriter, r *http.Request, l *bucketLimiter, key, whose string) bool {
	if l == nil || key == "" {
		return true
	}
	wait, ok := l.take(key)
	if ok {
		return true
	}
	// The route template, never the path: ids in it would make the label
	// set grow without bound.
	route := "unmatched"
	if cr := mux.CurrentRoute(r); cr != nil {
		if tmpl, err := cr.GetPathTemplate(); err == nil {
			route = tmpl
		}
	}
	a.rateLimited.WithLabelValues(route).Inc()
	a.fail(w, r, &rateLimitedError{retryAfter: wait, whose: whose})
	return false
}

// newRateLimitedCounter counts refused requests by route template, in reg
// unless it is nil.
func newRateLimitedCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "checkoutd", Name: "rate_limited_total",
		Help: "Requests refused with 429 rate_limited because their budget (their shop's, or on the public routes their client's) was spent, by route template.",
	}, []string{"route"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

// bucketLimiter keeps a token bucket per key, in this process only: per
// shop for the API's routes, per client IP for the public ones.
//
// Memory stays bounded without a cap on keys: a bucket that has refilled
// to the brim is exactly what a missing one stands for, so sweep drops
// those, losing nothing. What remains are the keys that made requests
// within the last refill time (Burst/PerSecond, 2 s at the defaults).
type bucketLimiter struct {
	perSecond float64
	burst     float64
	// refill is how long an empty bucket takes to fill, and how often
	// buckets are swept.
	refill time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]bucket
	swept   time.Time
}

// bucket is how many requests a key had left at a moment.
type bucket struct {
	tokens float64
	at     time.Time
}

// newBucketLimiter returns a limiter enforcing limit, or nil when it is off.
func newBucketLimiter(limit RateLimit, now func() time.Time) *bucketLimiter {
	if limit.PerSecond <= 0 {
		return nil
	}
	burst := float64(max(limit.Burst, 1))
	return &bucketLimiter{
		perSecond: limit.PerSecond,
		burst:     burst,
		refill:    max(time.Duration(burst/limit.PerSecond*float64(time.Second)), time.Second),
		now:       now,
		buckets:   map[string]bucket{},
		swept:     now(),
	}
}

// take spends one request of key's budget and reports true, or reports
// false and how long until the bucket holds a whole request again.
func (l *bucketLimiter) take(key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Read under the lock, so that no bucket's time ever goes backwards.
	now := l.now()
	if now.Sub(l.swept) >= l.refill {
		l.sweep(now)
	}
	b, found := l.buckets[key]
	if !found {
		b = bucket{tokens: l.burst}
	} else {
		b.tokens = l.level(b, now)
	}
	b.at = now
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	}
	l.buckets[key] = b
	if ok {
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second)), false
}

// level is what b holds at now.
func (l *bucketLimiter) level(b bucket, now time.Time) float64 {
	return min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.perSecond)
}

// sweep drops the buckets that are full again.
func (l *bucketLimiter) sweep(now time.Time) {
	l.swept = now
	for key, b := range l.buckets {
		if l.level(b, now) >= l.burst {
			delete(l.buckets, key)
		}
	}
}
