// Package httpapi is checkoutd's HTTP API, as docs/http-api.md specifies it:
// the inventory ledger's routes for edge workers, shop backends and ops tools,
// checkout sessions for storefronts, Stripe's webhooks, and each shop's alerts
// and oversold orders. It is the adapter at the top: handlers decode and check
// the request, call the domain package (inventory, checkout, webhooks, alerts)
// and encode what it returns; every typed error of the domain maps to one
// status and body here and nowhere else. cmd/checkoutd mounts it on the
// server from internal/httpserver.
package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/checkoutd/checkoutd/availability"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/inventory"
)

// MaxBodyBytes caps request bodies; larger ones get 413 body_too_large.
const MaxBodyBytes = 1 << 20

// Config configures the API.
type Config struct {
	// ServiceToken (INVENTORY_AUTHORITY_TOKEN) may act on every shop. Empty
	// disables it, leaving shop API keys.
	ServiceToken string
	// DefaultHoldTTL applies to hold requests without ttlSeconds
	// (INVENTORY_HOLD_TTL_SECONDS).
	DefaultHoldTTL time.Duration
	// RateLimit is each shop's request budget (RATE_LIMIT_PER_SHOP); the
	// zero value turns it off.
	RateLimit RateLimit
	// Registerer receives the API's metrics; nil registers them nowhere.
	Registerer prometheus.Registerer
	// Feed, the process's live availability feed, serves the streams and
	// keeps the public answers' cache exact. Nil (STOCK_NOTIFY=0) turns the
	// streams off (503) and the public answers are read every time.
	Feed *availability.Feed
	// Public configures the public availability routes (MountPublic).
	Public PublicConfig
}

// API serves checkoutd's routes.
type API struct {
	ledger *inventory.Ledger
	keys   *apikey.Store
	cfg    Config
	// serviceToken is cfg.ServiceToken, hashed once.
	serviceToken apikey.ServiceToken
	log          *slog.Logger
	// limiter is nil when the per-shop budget is off.
	limiter     *bucketLimiter
	rateLimited *prometheus.CounterVec

	// The public routes' parts: who may read them from a page, each
	// client's budgets, and the answers and settings they remember.
	corsPolicy    corsPolicy
	clientIPs     clientIPs
	clientLimiter *bucketLimiter
	streamSlots   *streamSlots
	answers       *answerCache
	publicFlags   *publicFlags
	heartbeat     time.Duration
}

// New returns the API over ledger, authenticating shop keys with keys.
func New(ledger *inventory.Ledger, keys *apikey.Store, cfg Config, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.Default()
	}
	a := &API{
		ledger: ledger, keys: keys, cfg: cfg, log: logger,
		serviceToken: apikey.NewServiceToken(cfg.ServiceToken),
		limiter:      newBucketLimiter(cfg.RateLimit, time.Now),
		rateLimited:  newRateLimitedCounter(cfg.Registerer),

		corsPolicy:    newCORSPolicy(cfg.Public.CORSOrigins),
		clientIPs:     clientIPs{trusted: cfg.Public.TrustedProxies},
		clientLimiter: newBucketLimiter(cfg.Public.RateLimit, time.Now),
		answers:       newAnswerCache(cfg.Feed, availability.NewReader(ledger), cfg.Public.CacheEntries),
		publicFlags:   newPublicFlags(ledger),
		heartbeat:     cfg.Public.Heartbeat,
	}
	if a.heartbeat <= 0 {
		a.heartbeat = DefaultHeartbeat
	}
	if n := cfg.Public.StreamsPerClient; n > 0 {
		a.streamSlots = &streamSlots{max: n, open: map[string]int{}}
	}
	return a
}

// Mount adds the API's routes to r. GET /api/inventory/health is not among
// them: the HTTP server serves it with the other health checks, without
// authentication. Every route spends its shop's request budget (see limit).
//
// Every route is registered on r with its full path rather than through
// subrouters: with subrouters, gorilla/mux answers a wrong method on a
// nested route with 404 instead of 405.
func (a *API) Mount(r *mux.Router) {
	const base = "/api/inventory"
	const shop = base + "/shops/{shopId}"
	route := func(method, path string, h http.HandlerFunc) {
		r.Handle(path, a.authenticate(a.limit(h))).Methods(method)
	}
	shopRoute := func(method, path string, h http.HandlerFunc) {
		r.Handle(shop+path, a.authenticate(a.limit(a.authorizeShop(h)))).Methods(method)
	}

	// The reads edge workers make on every cart come first: mux tries the
	// routes in order, a path pattern each, and no two routes here match
	// the same path.
	route(http.MethodPost, base+"/validate", a.validate)
	shopRoute(http.MethodGet, "/stock/{sku}", a.stockInfo)
	route(http.MethodPost, base+"/shops", a.createShop)

	shopRoute(http.MethodGet, "", a.getShop)
	shopRoute(http.MethodPatch, "", a.updateShop)
	shopRoute(http.MethodGet, "/locations", a.listLocations)
	shopRoute(http.MethodPost, "/locations", a.addLocation)
	shopRoute(http.MethodPatch, "/locations/{locationId}", a.updateLocation)

	shopRoute(http.MethodGet, "/stream", a.shopStream)
	shopRoute(http.MethodGet, "/stock", a.listStock)
	shopRoute(http.MethodPut, "/stock/{sku}/settings", a.updateSettings)
	shopRoute(http.MethodPost, "/adjustments", a.adjust)
	shopRoute(http.MethodPost, "/receipts", a.receive)
	shopRoute(http.MethodPost, "/transfers", a.transfer)
	shopRoute(http.MethodGet, "/movements", a.movements)
	shopRoute(http.MethodPost, "/holds", a.createHold)
	shopRoute(http.MethodGet, "/holds/{holdId}", a.getHold)
	shopRoute(http.MethodPost, "/holds/{holdId}/commit", a.commitHold)
	shopRoute(http.MethodPost, "/holds/{holdId}/release", a.releaseHold)
	shopRoute(http.MethodPost, "/holds/{holdId}/extend", a.extendHold)
	shopRoute(http.MethodPut, "/holds/{holdId}/items", a.setHoldItems)
	shopRoute(http.MethodPost, "/holds/{holdId}/returns", a.createReturn)
	shopRoute(http.MethodGet, "/holds/{holdId}/returns", a.listReturns)
	shopRoute(http.MethodGet, "/rentals", a.rentals)
}
