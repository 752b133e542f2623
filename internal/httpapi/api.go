// Package httpapi is the HTTP face of the inventory ledger, as
// ../shared/API.md specifies it: the routes edge workers, shop backends and
// ops tools call. Handlers decode and check the request, call the inventory
// package and encode what it returns; every typed error of the ledger maps to
// one status and body here and nowhere else.
package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

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
}

// API serves the inventory routes.
type API struct {
	ledger *inventory.Ledger
	keys   *apikey.Store
	cfg    Config
	log    *slog.Logger
}

// New returns the API over ledger, authenticating shop keys with keys.
func New(ledger *inventory.Ledger, keys *apikey.Store, cfg Config, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.Default()
	}
	return &API{ledger: ledger, keys: keys, cfg: cfg, log: logger}
}

// Mount adds the API's routes to r. GET /api/inventory/health is not among
// them: the HTTP server serves it with the other health checks, without
// authentication.
func (a *API) Mount(r *mux.Router) {
	api := r.PathPrefix("/api/inventory").Subrouter()
	api.Use(a.authenticate)

	api.HandleFunc("/validate", a.validate).Methods(http.MethodPost)

	shop := api.PathPrefix("/shops/{shopId}").Subrouter()
	shop.Use(a.authorizeShop)
	shop.HandleFunc("/stock", a.listStock).Methods(http.MethodGet)
	shop.HandleFunc("/stock/{sku}", a.stockInfo).Methods(http.MethodGet)
	shop.HandleFunc("/stock/{sku}/settings", a.updateSettings).Methods(http.MethodPut)
	shop.HandleFunc("/adjustments", a.adjust).Methods(http.MethodPost)
	shop.HandleFunc("/receipts", a.receive).Methods(http.MethodPost)
	shop.HandleFunc("/transfers", a.transfer).Methods(http.MethodPost)
	shop.HandleFunc("/movements", a.movements).Methods(http.MethodGet)
	shop.HandleFunc("/holds", a.createHold).Methods(http.MethodPost)
	shop.HandleFunc("/holds/{holdId}", a.getHold).Methods(http.MethodGet)
	shop.HandleFunc("/holds/{holdId}/commit", a.commitHold).Methods(http.MethodPost)
	shop.HandleFunc("/holds/{holdId}/release", a.releaseHold).Methods(http.MethodPost)
	shop.HandleFunc("/holds/{holdId}/extend", a.extendHold).Methods(http.MethodPost)
}
