package httpapi

import (
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/availability"
)

// publicCacheControl lets browsers and CDNs keep a public answer for a
// second: enough to absorb a crowd on one product page, short enough that
// nobody is shown stock that sold out a while ago.
const publicCacheControl = "public, max-age=1"

// PublicConfig configures the public availability routes (docs/http-api.md,
// "Public availability"): no token, any browser origin the shop allows.
type PublicConfig struct {
	// CORSOrigins may read the answers from a page (PUBLIC_CORS_ORIGINS):
	// exact origins such as https://shop.example, or "*" for any. None
	// means same-origin pages only.
	CORSOrigins []string
	// RateLimit is each client IP's request budget (PUBLIC_RATE_LIMIT);
	// the zero value turns it off. Opening a stream spends one request.
	RateLimit RateLimit
	// StreamsPerClient caps the streams one client IP holds open at once
	// (PUBLIC_STREAMS_PER_IP); 0 means no cap.
	StreamsPerClient int
	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (TRUSTED_PROXIES); see clientIPs.
	TrustedProxies []netip.Prefix
	// Heartbeat is the most time a stream goes without sending a line
	// (PUBLIC_STREAM_HEARTBEAT; default DefaultHeartbeat), so proxies do not
	// close it as idle and clients notice a dead connection.
	Heartbeat time.Duration
	// CacheEntries caps the public answers cached at once (default 10,000).
	CacheEntries int
}

// MountPublic adds the public availability routes to r: GET and HEAD
// answer, OPTIONS answers CORS preflights, and every other method is 405.
// They need no token; each client IP spends its own budget.
func (a *API) MountPublic(r *mux.Router) {
	const shop = "/api/public/shops/{shopId}/availability"
	public := func(h http.HandlerFunc) http.Handler { return a.cors(noStore(a.limitClient(h))) }
	r.Handle(shop, public(a.publicAvailability)).Methods(http.MethodGet, http.MethodHead)
	r.Handle(shop, a.cors(http.HandlerFunc(a.preflight))).Methods(http.MethodOptions)
	r.Handle(shop+"/stream", public(a.publicStream)).Methods(http.MethodGet, http.MethodHead)
	r.Handle(shop+"/stream", a.cors(http.HandlerFunc(a.preflight))).Methods(http.MethodOptions)
}

// noStore marks every answer uncacheable unless the handler says
// otherwise: errors (a 429 is one client's, a 404 may turn into a 200 any
// moment) and streams. Successful reads set publicCacheControl instead.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// limitClient charges each request to its client IP's budget, answering
// 429 rate_limited once it is spent.
func (a *API) limitClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.spendFrom(w, r, a.clientLimiter, budgetKey(a.clientIPs.of(r)), "this client's request budget") {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// publicRequest reads what a public route is asked: the shop, which must
// show its stock publicly, and 1 to availability.MaxSKUs valid SKUs,
// returned sorted without repeats. It answers 404 for a shop id that is
// not valid, a shop that does not exist and one that does not show its
// stock, the same bytes for each, and 400 for bad SKUs; then ok is false.
func (a *API) publicRequest(w http.ResponseWriter, r *http.Request) (shopID string, skus []string, ok bool) {
	shopID = pathVar(r, "shopId")
	if !checkoutd.ValidShopID(shopID) {
		writeNotFound(w, "shop not found")
		return "", nil, false
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeInvalid(w, []checkoutd.FieldIssue{{Field: "query", Issue: "is not a valid query string"}})
		return "", nil, false
	}
	skus = query["sku"]
	var issues []checkoutd.FieldIssue
	switch {
	case len(skus) == 0:
		issues = append(issues, checkoutd.FieldIssue{Field: "sku", Issue: "must name at least one SKU"})
	case len(skus) > availability.MaxSKUs:
		issues = append(issues, checkoutd.FieldIssue{Field: "sku", Issue: "must name at most " + strconv.Itoa(availability.MaxSKUs) + " SKUs"})
	}
	for _, s := range skus {
		if !checkoutd.ValidSKU(s) {
			issues = append(issues, checkoutd.FieldIssue{Field: "sku", Issue: checkoutd.SKUIssue})
		}
	}
	if len(issues) > 0 {
		writeInvalid(w, issues)
		return "", nil, false
	}
	public, err := a.publicFlags.public(r.Context(), shopID)
	if err != nil {
		a.fail(w, r, err)
		return "", nil, false
	}
	if !public {
		writeNotFound(w, "shop not found")
		return "", nil, false
	}
	skus = slices.Clone(skus)
	slices.Sort(skus)
	return shopID, slices.Compact(skus), true
}

// publicAvailability serves GET and HEAD of a shop's public availability.
func (a *API) publicAvailability(w http.ResponseWriter, r *http.Request) {
	shopID, skus, ok := a.publicRequest(w, r)
	if !ok {
		return
	}
	ans, err := a.answers.get(r.Context(), shopID, skus)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", publicCacheControl)
	h.Set("ETag", ans.etag)
	if etagMatches(r.Header.Values("If-None-Match"), ans.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(ans.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(ans.body)
	}
}

// etagMatches reports whether If-None-Match (its field lines) matches
// etag, as RFC 9110 13.1.2 has it: "*" matches any current answer, and a
// list matches when one of its tags equals etag by weak comparison (W/
// ignored on both). A malformed list matches nothing, so the client gets
// the whole answer.
func etagMatches(lines []string, etag string) bool {
	opaque := func(tag string) string {
		if len(tag) > 2 && tag[:2] == "W/" {
			return tag[2:]
		}
		return tag
	}
	want := opaque(etag)
	for _, line := range lines {
		for i := 0; i < len(line); {
			switch c := line[i]; {
			case c == ' ' || c == '\t' || c == ',':
				i++
				continue
			case c == '*':
				return true
			}
			start := i
			if len(line)-i >= 2 && line[i:i+2] == "W/" {
				i += 2
			}
			if i >= len(line) || line[i] != '"' {
				return false
			}
			end := i + 1
			for end < len(line) && line[end] != '"' {
				end++
			}
			if end >= len(line) {
				return false
			}
			if opaque(line[start:end+1]) == want {
				return true
			}
			i = end + 1
		}
	}
	return false
}
