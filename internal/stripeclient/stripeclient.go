// Package stripeclient configures the one way checkoutd reaches Stripe
// (STRIPE_SECRET_KEY, STRIPE_API_BASE): the Checkout Sessions client that
// checkout creates sessions with and the jobs expire and look up sessions
// with, and the backend the refunds go through.
package stripeclient

import (
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/checkout/session"
)

// Sessions is the part of Stripe's Checkout Sessions API checkoutd uses.
// *session.Client implements it; tests use fakes.
type Sessions interface {
	New(params *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error)
	Get(id string, params *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error)
	Expire(id string, params *stripe.CheckoutSessionExpireParams) (*stripe.CheckoutSession, error)
	// ListLineItems lists what the customer bought, the quantities they
	// picked on Stripe's page included.
	ListLineItems(params *stripe.CheckoutSessionListLineItemsParams) *session.LineItemIter
}

// Config says how to reach Stripe.
type Config struct {
	// SecretKey is STRIPE_SECRET_KEY.
	SecretKey string
	// APIBase, when set (STRIPE_API_BASE), points the client at another
	// server, such as stripe-mock.
	APIBase string
	// Timeout bounds each request to Stripe (default 10s).
	Timeout time.Duration
	// MaxNetworkRetries is how often stripe-go retries a request that failed
	// on the network or with a 409/5xx (default 2). Every request carries an
	// idempotency key, so retries are safe.
	MaxNetworkRetries int64
}

// NewSessions returns the Checkout Sessions client for cfg.
func NewSessions(cfg Config) Sessions {
	return &session.Client{B: Backend(cfg), Key: cfg.SecretKey}
}

// Backend returns the stripe-go backend for cfg, for the other Stripe
// APIs checkoutd calls (refunds).
func Backend(cfg Config) stripe.Backend {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxNetworkRetries == 0 {
		cfg.MaxNetworkRetries = 2
	}
	bc := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: cfg.Timeout},
		MaxNetworkRetries: stripe.Int64(cfg.MaxNetworkRetries),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(cfg.APIBase)
	}
	return stripe.GetBackendWithConfig(stripe.APIBackend, bc)
}
