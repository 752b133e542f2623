// Package config reads checkoutd's settings from environment variables and
// rejects any value the service cannot use before anything starts, so an
// operator sees one line naming the variable instead of a failure later on.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/checkoutd/checkoutd"
)

// BackendPostgres is the only inventory backend: the ledger lives in
// PostgreSQL.
const BackendPostgres = "postgres"

// Config is the validated configuration. Load fills every field; the zero
// value is not a usable configuration.
type Config struct {
	// DatabaseURL is the PostgreSQL connection URL. Load accepts it empty so
	// that commands without a database can run; the ones that need it call
	// RequireDatabaseURL.
	DatabaseURL string
	// HTTPAddr is the host:port the HTTP server listens on.
	HTTPAddr string
	// InventoryBackend is where the ledger is stored; always BackendPostgres.
	InventoryBackend string
	// InventoryMode is what checkout does with stock.
	InventoryMode checkoutd.InventoryMode
	// HoldTTLSeconds is how long a reserve_ttl hold lasts; see HoldTTL.
	HoldTTLSeconds int
	// SkipInventoryValidation lets checkouts through without checking stock,
	// for shops that must keep selling while the ledger is being repaired.
	SkipInventoryValidation bool
	// LowStockDefaultThreshold is the low-stock threshold of stock lines that
	// have none of their own.
	LowStockDefaultThreshold int64
	// LogLevel is the minimum level written to the log.
	LogLevel slog.Level
	// DatabaseMaxConns caps the connection pool.
	DatabaseMaxConns int32
	// LockTimeoutMillis is the row-lock wait budget; see LockTimeout.
	LockTimeoutMillis int
	// GroupSize is how many concurrent holds, commits and releases one
	// transaction may carry; 1 turns group commit off
	// (inventory.Config.GroupSize).
	GroupSize int
	// GroupsInFlight is how many group transactions each process runs at
	// once.
	GroupsInFlight int
	// GroupWindow is how long a group with room waits for more operations
	// before it runs; 0, the default, never waits.
	GroupWindow time.Duration
	// ReadGroupSize is how many concurrent validations and stock reads one
	// query may answer; 1 turns their grouping off.
	ReadGroupSize int
	// InventoryAuthorityToken is the service token that may act on every
	// shop over the API; empty leaves only shop API keys.
	InventoryAuthorityToken string
	// RateLimitPerShop is how many API requests a second each shop may
	// make on average, in each process; 0 turns the budget off.
	RateLimitPerShop int
	// RateLimitBurst is how many requests a shop may make at once; 0 when
	// RateLimitPerShop is.
	RateLimitBurst int
	// StripeSecretKey is the key checkout sessions are created with.
	StripeSecretKey string
	// StripeAPIBase, when set, points the Stripe client at another server,
	// such as stripe-mock.
	StripeAPIBase string
	// StripeWebhookSecret is one or more (comma-separated, during a
	// rotation) webhook endpoint secrets.
	StripeWebhookSecret string
	// AsyncPaymentHoldHours is how long a hold keeps stock for a delayed
	// payment; see AsyncPaymentHold.
	AsyncPaymentHoldHours int
	// StripeRefundOversold refunds paid orders the stock could not cover.
	StripeRefundOversold bool
	// JobWorkers is how many background jobs a worker process runs at once.
	JobWorkers int
	// ReaperInterval is how often lapsed holds are reaped.
	ReaperInterval time.Duration
	// StockNotify logs every committed stock change for the availability
	// feed, and runs the feed in serve.
	StockNotify bool
	// AvailabilityMaxSubscribers caps the live availability subscriptions
	// (open streams) of one process.
	AvailabilityMaxSubscribers int
	// PublicCORSOrigins are the origins whose pages may read the public
	// availability routes, comma-separated and lowercased, or "*" for any;
	// empty for none. See CORSOrigins.
	PublicCORSOrigins string
	// PublicRateLimit is how many public requests a second each client IP
	// may make on average, in each process; 0 turns the budget off.
	PublicRateLimit int
	// PublicRateLimitBurst is how many public requests a client IP may make
	// at once; 0 when PublicRateLimit is.
	PublicRateLimitBurst int
	// PublicStreamsPerIP caps the streams one client IP holds open in each
	// process; 0 is no cap.
	PublicStreamsPerIP int
	// PublicStreamHeartbeat is the longest a stream goes without a line.
	PublicStreamHeartbeat time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For is believed,
	// as comma-separated CIDR prefixes; empty trusts none. See
	// TrustedProxyPrefixes.
	TrustedProxies string
	// LowStockCheckInterval is how often requested low-stock checks run.
	LowStockCheckInterval time.Duration
	// LowStockAlertInterval is the least time between two low-stock alerts
	// of one stock line.
	LowStockAlertInterval time.Duration
	// SlackWebhookURL is the Slack incoming webhook alerts are posted to;
	// empty sends none there.
	SlackWebhookURL string
	// AlertWebhookURL receives alerts as signed JSON; empty sends none.
	AlertWebhookURL string
	// AlertWebhookSecret signs what AlertWebhookURL receives; set whenever
	// AlertWebhookURL is.
	AlertWebhookSecret string
	// AlertBudgetPerShop is how many low-stock alerts of one shop go out on
	// their own per AlertBudgetWindow; the rest wait for one digest.
	AlertBudgetPerShop int
	// AlertBudgetWindow is the period of AlertBudgetPerShop.
	AlertBudgetWindow time.Duration
	// PurchaseLimitWindow is how far back a customer's holds count against
	// a line's maxPerCustomer.
	PurchaseLimitWindow time.Duration
	// ConsoleEnabled serves the ops console under /console/.
	ConsoleEnabled bool
	// ConsoleSessionKey signs the console's sessions; empty derives a key
	// from InventoryAuthorityToken (see console.SessionKey).
	ConsoleSessionKey string
	// PprofAddr, when set, is where serve answers Go's profiles
	// (/debug/pprof/), on a listener of its own; empty serves none.
	PprofAddr string
}

// AsyncPaymentHold is how long a hold keeps its stock after a checkout
// completes unpaid, waiting for a delayed payment method.
func (c Config) AsyncPaymentHold() time.Duration {
	return time.Duration(c.AsyncPaymentHoldHours) * time.Hour
}

// HoldTTL is how long a reserve_ttl hold keeps stock before it expires.
func (c Config) HoldTTL() time.Duration {
	return time.Duration(c.HoldTTLSeconds) * time.Second
}

// LockTimeout is how long a request waits for an inventory row lock before it
// is answered "busy, retry" instead of queueing behind other checkouts.
func (c Config) LockTimeout() time.Duration {
	return time.Duration(c.LockTimeoutMillis) * time.Millisecond
}

// CORSOrigins returns PublicCORSOrigins as a list.
func (c Config) CORSOrigins() []string {
	if c.PublicCORSOrigins == "" {
		return nil
	}
	return strings.Split(c.PublicCORSOrigins, ",")
}

// TrustedProxyPrefixes returns TrustedProxies as prefixes.
func (c Config) TrustedProxyPrefixes() []netip.Prefix {
	if c.TrustedProxies == "" {
		return nil
	}
	var out []netip.Prefix
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// RequireDatabaseURL returns an *Error when DATABASE_URL is unset, for the
// commands that cannot run without a database.
func (c Config) RequireDatabaseURL() error {
	if c.DatabaseURL == "" {
		return &Error{
			Name:    "DATABASE_URL",
			Problem: problemUnset,
			Allowed: "use a PostgreSQL URL such as postgres://checkoutd@localhost:5432/checkoutd",
		}
	}
	return nil
}

const problemUnset = "is not set"

// Error is a variable whose value cannot be used. Its message is one line
// naming the variable, the value and what is allowed instead.
type Error struct {
	// Name is the environment variable, e.g. INVENTORY_MODE.
	Name string
	// Value is what the environment holds.
	Value string
	// Problem is what is wrong with Value, e.g. "is out of range".
	Problem string
	// Allowed tells the operator what to use instead, e.g. "use 60-3600".
	Allowed string
}

func (e *Error) Error() string {
	if e.Problem == problemUnset {
		return fmt.Sprintf("%s %s: %s", e.Name, e.Problem, e.Allowed)
	}
	return fmt.Sprintf("%s=%q %s: %s", e.Name, e.Value, e.Problem, e.Allowed)
}

// env is the environment as envconfig reads it. Every field is a string so
// that parse, not envconfig, words the error for a bad value. A variable that
// is set but empty does not take its default: an empty value is an error.
type env struct {
	DatabaseURL              string `envconfig:"DATABASE_URL"`
	HTTPAddr                 string `envconfig:"HTTP_ADDR" default:":8080"`
	InventoryBackend         string `envconfig:"INVENTORY_BACKEND" default:"postgres"`
	InventoryMode            string `envconfig:"INVENTORY_MODE" default:"validate_only"`
	HoldTTLSeconds           string `envconfig:"INVENTORY_HOLD_TTL_SECONDS" default:"1200"`
	SkipInventoryValidation  string `envconfig:"SKIP_INVENTORY_VALIDATION" default:"0"`
	LowStockDefaultThreshold string `envconfig:"LOW_STOCK_DEFAULT_THRESHOLD" default:"10"`
	LogLevel                 string `envconfig:"LOG_LEVEL" default:"info"`
	DatabaseMaxConns         string `envconfig:"DATABASE_MAX_CONNS" default:"16"`
	LockTimeoutMillis        string `envconfig:"INVENTORY_LOCK_TIMEOUT_MS" default:"3000"`
	GroupSize                string `envconfig:"INVENTORY_GROUP_SIZE" default:"64"`
	GroupsInFlight           string `envconfig:"INVENTORY_GROUPS_IN_FLIGHT" default:"2"`
	GroupWindow              string `envconfig:"INVENTORY_GROUP_WINDOW" default:"0s"`
	ReadGroupSize            string `envconfig:"INVENTORY_READ_GROUP_SIZE" default:"128"`
	InventoryAuthorityToken  string `envconfig:"INVENTORY_AUTHORITY_TOKEN"`
	RateLimitPerShop         string `envconfig:"RATE_LIMIT_PER_SHOP" default:"200,400"`
	StripeSecretKey          string `envconfig:"STRIPE_SECRET_KEY"`
	StripeAPIBase            string `envconfig:"STRIPE_API_BASE"`
	StripeWebhookSecret      string `envconfig:"STRIPE_WEBHOOK_SECRET"`
	AsyncPaymentHoldHours    string `envconfig:"ASYNC_PAYMENT_HOLD_HOURS" default:"72"`
	StripeRefundOversold     string `envconfig:"STRIPE_REFUND_OVERSOLD" default:"0"`
	JobWorkers               string `envconfig:"JOB_WORKERS" default:"10"`
	ReaperInterval           string `envconfig:"REAPER_INTERVAL" default:"30s"`
	StockNotify              string `envconfig:"STOCK_NOTIFY" default:"1"`
	AvailabilityMaxSubs      string `envconfig:"AVAILABILITY_MAX_SUBSCRIBERS" default:"10000"`
	PublicCORSOrigins        string `envconfig:"PUBLIC_CORS_ORIGINS"`
	PublicRateLimit          string `envconfig:"PUBLIC_RATE_LIMIT" default:"20,100"`
	PublicStreamsPerIP       string `envconfig:"PUBLIC_STREAMS_PER_IP" default:"20"`
	PublicStreamHeartbeat    string `envconfig:"PUBLIC_STREAM_HEARTBEAT" default:"15s"`
	TrustedProxies           string `envconfig:"TRUSTED_PROXIES"`
	LowStockCheckInterval    string `envconfig:"LOW_STOCK_CHECK_INTERVAL" default:"5s"`
	LowStockAlertInterval    string `envconfig:"LOW_STOCK_ALERT_INTERVAL" default:"24h"`
	SlackWebhookURL          string `envconfig:"SLACK_WEBHOOK_URL"`
	AlertWebhookURL          string `envconfig:"ALERT_WEBHOOK_URL"`
	AlertWebhookSecret       string `envconfig:"ALERT_WEBHOOK_SECRET"`
	AlertBudgetPerShop       string `envconfig:"ALERT_BUDGET_PER_SHOP" default:"10"`
	AlertBudgetWindow        string `envconfig:"ALERT_BUDGET_WINDOW" default:"10m"`
	PurchaseLimitWindow      string `envconfig:"PURCHASE_LIMIT_WINDOW" default:"24h"`
	ConsoleEnabled           string `envconfig:"CONSOLE_ENABLED" default:"0"`
	ConsoleSessionKey        string `envconfig:"CONSOLE_SESSION_KEY"`
	PprofAddr                string `envconfig:"PPROF_ADDR"`
}

// Load reads the configuration from the environment and validates it. The
// error for a bad value is an *Error; only the first bad variable is
// reported, in the order the variables are documented in .env.example.
func Load() (Config, error) {
	var e env
	if err := envconfig.Process("", &e); err != nil {
		return Config{}, fmt.Errorf("read environment: %w", err)
	}
	return e.parse()
}

func (e env) parse() (Config, error) {
	c := Config{
		DatabaseURL:             e.DatabaseURL,
		InventoryAuthorityToken: e.InventoryAuthorityToken,
		StripeSecretKey:         e.StripeSecretKey,
		StripeAPIBase:           e.StripeAPIBase,
		StripeWebhookSecret:     e.StripeWebhookSecret,
	}
	if e.StripeAPIBase != "" {
		if u, err := url.Parse(e.StripeAPIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, &Error{Name: "STRIPE_API_BASE", Value: e.StripeAPIBase, Problem: "is not a URL", Allowed: "use an http(s) URL such as http://127.0.0.1:12111"}
		}
	}

	if _, _, err := net.SplitHostPort(e.HTTPAddr); err != nil {
		return Config{}, &Error{Name: "HTTP_ADDR", Value: e.HTTPAddr, Problem: "is not allowed", Allowed: "use host:port or :port, e.g. :8080"}
	}
	c.HTTPAddr = e.HTTPAddr
	if e.PprofAddr != "" {
		if _, _, err := net.SplitHostPort(e.PprofAddr); err != nil {
			return Config{}, &Error{Name: "PPROF_ADDR", Value: e.PprofAddr, Problem: "is not allowed", Allowed: "use host:port, e.g. 127.0.0.1:6060, or leave it unset"}
		}
		c.PprofAddr = e.PprofAddr
	}

	rate, burst, err := parseRateLimit("RATE_LIMIT_PER_SHOP", e.RateLimitPerShop)
	if err != nil {
		return Config{}, err
	}
	c.RateLimitPerShop, c.RateLimitBurst = rate, burst

	if e.InventoryBackend != BackendPostgres {
		return Config{}, &Error{Name: "INVENTORY_BACKEND", Value: e.InventoryBackend, Problem: "is not allowed", Allowed: "use postgres"}
	}
	c.InventoryBackend = e.InventoryBackend

	switch m := checkoutd.InventoryMode(e.InventoryMode); m {
	case checkoutd.ModeValidateOnly, checkoutd.ModeReserveTTL:
		c.InventoryMode = m
	default:
		return Config{}, &Error{Name: "INVENTORY_MODE", Value: e.InventoryMode, Problem: "is not allowed", Allowed: "use validate_only or reserve_ttl"}
	}

	ttl, err := parseInt("INVENTORY_HOLD_TTL_SECONDS", e.HoldTTLSeconds, 60, 3600)
	if err != nil {
		return Config{}, err
	}
	c.HoldTTLSeconds = int(ttl)

	switch e.SkipInventoryValidation {
	case "0":
	case "1":
		c.SkipInventoryValidation = true
	default:
		return Config{}, &Error{Name: "SKIP_INVENTORY_VALIDATION", Value: e.SkipInventoryValidation, Problem: "is not allowed", Allowed: "use 0 or 1"}
	}

	low, err := parseInt("LOW_STOCK_DEFAULT_THRESHOLD", e.LowStockDefaultThreshold, 0, -1)
	if err != nil {
		return Config{}, err
	}
	c.LowStockDefaultThreshold = low

	asyncHours, err := parseInt("ASYNC_PAYMENT_HOLD_HOURS", e.AsyncPaymentHoldHours, 1, 720)
	if err != nil {
		return Config{}, err
	}
	c.AsyncPaymentHoldHours = int(asyncHours)

	workers, err := parseInt("JOB_WORKERS", e.JobWorkers, 1, 1000)
	if err != nil {
		return Config{}, err
	}
	c.JobWorkers = int(workers)
	interval, err := time.ParseDuration(e.ReaperInterval)
	if err != nil || interval < time.Second || interval > time.Hour {
		return Config{}, &Error{Name: "REAPER_INTERVAL", Value: e.ReaperInterval, Problem: "is not allowed", Allowed: "use a duration from 1s to 1h, such as 30s"}
	}
	c.ReaperInterval = interval

	switch e.StockNotify {
	case "0":
	case "1":
		c.StockNotify = true
	default:
		return Config{}, &Error{Name: "STOCK_NOTIFY", Value: e.StockNotify, Problem: "is not allowed", Allowed: "use 0 or 1"}
	}
	subs, err := parseInt("AVAILABILITY_MAX_SUBSCRIBERS", e.AvailabilityMaxSubs, 1, 1_000_000)
	if err != nil {
		return Config{}, err
	}
	c.AvailabilityMaxSubscribers = int(subs)
	if err := parsePublic(e, &c); err != nil {
		return Config{}, err
	}

	switch e.StripeRefundOversold {
	case "0":
	case "1":
		c.StripeRefundOversold = true
	default:
		return Config{}, &Error{Name: "STRIPE_REFUND_OVERSOLD", Value: e.StripeRefundOversold, Problem: "is not allowed", Allowed: "use 0 or 1"}
	}

	if c.LowStockCheckInterval, err = parseDuration("LOW_STOCK_CHECK_INTERVAL", e.LowStockCheckInterval, time.Second, time.Hour, "1s to 1h, such as 5s"); err != nil {
		return Config{}, err
	}
	if c.LowStockAlertInterval, err = parseDuration("LOW_STOCK_ALERT_INTERVAL", e.LowStockAlertInterval, time.Minute, 720*time.Hour, "1m to 720h, such as 24h"); err != nil {
		return Config{}, err
	}
	if e.SlackWebhookURL != "" && !httpURL(e.SlackWebhookURL) {
		return Config{}, &Error{Name: "SLACK_WEBHOOK_URL", Value: e.SlackWebhookURL, Problem: "is not a URL", Allowed: "use the http(s) URL of a Slack incoming webhook, such as https://hooks.slack.com/services/..."}
	}
	c.SlackWebhookURL = e.SlackWebhookURL
	if e.AlertWebhookURL != "" && !httpURL(e.AlertWebhookURL) {
		return Config{}, &Error{Name: "ALERT_WEBHOOK_URL", Value: e.AlertWebhookURL, Problem: "is not a URL", Allowed: "use an http(s) URL such as https://alerts.example.com/checkoutd"}
	}
	c.AlertWebhookURL = e.AlertWebhookURL
	if e.AlertWebhookURL != "" && e.AlertWebhookSecret == "" {
		return Config{}, &Error{Name: "ALERT_WEBHOOK_SECRET", Problem: problemUnset, Allowed: "set it whenever ALERT_WEBHOOK_URL is set (alerts are signed with it), e.g. to the output of openssl rand -hex 32"}
	}
	c.AlertWebhookSecret = e.AlertWebhookSecret
	budget, err := parseInt("ALERT_BUDGET_PER_SHOP", e.AlertBudgetPerShop, 1, 10000)
	if err != nil {
		return Config{}, err
	}
	c.AlertBudgetPerShop = int(budget)
	if c.AlertBudgetWindow, err = parseDuration("ALERT_BUDGET_WINDOW", e.AlertBudgetWindow, time.Minute, 24*time.Hour, "1m to 24h, such as 10m"); err != nil {
		return Config{}, err
	}
	if c.PurchaseLimitWindow, err = parseDuration("PURCHASE_LIMIT_WINDOW", e.PurchaseLimitWindow, time.Minute, 8760*time.Hour, "1m to 8760h, such as 24h"); err != nil {
		return Config{}, err
	}

	switch e.ConsoleEnabled {
	case "0":
	case "1":
		c.ConsoleEnabled = true
	default:
		return Config{}, &Error{Name: "CONSOLE_ENABLED", Value: e.ConsoleEnabled, Problem: "is not allowed", Allowed: "use 0 or 1"}
	}
	if e.ConsoleSessionKey != "" && len(e.ConsoleSessionKey) < 32 {
		// The value is a secret: the message does not repeat it.
		return Config{}, &Error{Name: "CONSOLE_SESSION_KEY", Value: "(hidden)", Problem: "is shorter than 32 bytes", Allowed: "use at least 32 random bytes, e.g. the output of openssl rand -hex 32"}
	}
	c.ConsoleSessionKey = e.ConsoleSessionKey
	if c.ConsoleEnabled && c.ConsoleSessionKey == "" && c.InventoryAuthorityToken == "" {
		return Config{}, &Error{Name: "CONSOLE_SESSION_KEY", Problem: problemUnset, Allowed: "the console signs its sessions with it, or with a key derived from INVENTORY_AUTHORITY_TOKEN: set one of them, or CONSOLE_ENABLED=0"}
	}

	switch e.LogLevel {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return Config{}, &Error{Name: "LOG_LEVEL", Value: e.LogLevel, Problem: "is not allowed", Allowed: "use debug, info, warn or error"}
	}

	conns, err := parseInt("DATABASE_MAX_CONNS", e.DatabaseMaxConns, 1, 1000)
	if err != nil {
		return Config{}, err
	}
	c.DatabaseMaxConns = int32(conns)

	lockMS, err := parseInt("INVENTORY_LOCK_TIMEOUT_MS", e.LockTimeoutMillis, 50, 60000)
	if err != nil {
		return Config{}, err
	}
	c.LockTimeoutMillis = int(lockMS)

	if err := parseGroups(e, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// parseGroups reads the settings of group commit and grouped validations.
func parseGroups(e env, c *Config) error {
	size, err := parseInt("INVENTORY_GROUP_SIZE", e.GroupSize, 1, 1024)
	if err != nil {
		return err
	}
	inFlight, err := parseInt("INVENTORY_GROUPS_IN_FLIGHT", e.GroupsInFlight, 1, 16)
	if err != nil {
		return err
	}
	readSize, err := parseInt("INVENTORY_READ_GROUP_SIZE", e.ReadGroupSize, 1, 1024)
	if err != nil {
		return err
	}
	c.GroupSize, c.GroupsInFlight, c.ReadGroupSize = int(size), int(inFlight), int(readSize)
	c.GroupWindow, err = parseDuration("INVENTORY_GROUP_WINDOW", e.GroupWindow, 0, 10*time.Millisecond, "0s to 10ms, such as 0s or 500us")
	return err
}

// parseRateLimit parses "rate" or "rate,burst": requests a second, 0 (off)
// to 100,000, and a burst of 1 to 1,000,000, twice the rate when left out.
// Off takes no burst, so "0,400" is refused rather than read as off.
func parseRateLimit(name, value string) (rate, burst int, err error) {
	bad := &Error{Name: name, Value: value, Problem: "is not allowed",
		Allowed: "use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400"}
	rateText, burstText, hasBurst := strings.Cut(value, ",")
	r, err := strconv.ParseInt(rateText, 10, 64)
	if err != nil || r < 0 || r > 100_000 || (r == 0 && hasBurst) {
		return 0, 0, bad
	}
	if !hasBurst {
		return int(r), int(2 * r), nil
	}
	b, err := strconv.ParseInt(burstText, 10, 64)
	if err != nil || b < 1 || b > 1_000_000 {
		return 0, 0, bad
	}
	return int(r), int(b), nil
}

// parsePublic parses the settings of the public availability routes into c.
func parsePublic(e env, c *Config) error {
	origins, err := parseOrigins(e.PublicCORSOrigins)
	if err != nil {
		return err
	}
	c.PublicCORSOrigins = origins
	if c.PublicRateLimit, c.PublicRateLimitBurst, err = parseRateLimit("PUBLIC_RATE_LIMIT", e.PublicRateLimit); err != nil {
		return err
	}
	streams, err := parseInt("PUBLIC_STREAMS_PER_IP", e.PublicStreamsPerIP, 0, 100_000)
	if err != nil {
		return err
	}
	c.PublicStreamsPerIP = int(streams)
	if c.PublicStreamHeartbeat, err = parseDuration("PUBLIC_STREAM_HEARTBEAT", e.PublicStreamHeartbeat, time.Second, 15*time.Second, "1s to 15s, such as 15s"); err != nil {
		return err
	}
	var prefixes []string
	var proxies []string
	if e.TrustedProxies != "" {
		proxies = strings.Split(e.TrustedProxies, ",")
	}
	for _, s := range proxies {
		p, err := netip.ParsePrefix(s)
		if a, aerr := netip.ParseAddr(s); aerr == nil {
			p, err = a.Prefix(a.BitLen())
		}
		if err != nil {
			return &Error{Name: "TRUSTED_PROXIES", Value: e.TrustedProxies, Problem: "is not allowed",
				Allowed: "use comma-separated addresses or CIDR prefixes, such as 10.0.0.0/8,192.0.2.7"}
		}
		prefixes = append(prefixes, p.Masked().String())
	}
	c.TrustedProxies = strings.Join(prefixes, ",")
	return nil
}

// parseOrigins checks PUBLIC_CORS_ORIGINS: "*", or comma-separated origins
// (scheme://host[:port], http or https, nothing after), returned lowercased.
func parseOrigins(value string) (string, error) {
	if value == "" || value == "*" {
		return value, nil
	}
	bad := &Error{Name: "PUBLIC_CORS_ORIGINS", Value: value, Problem: "is not allowed",
		Allowed: "use * or comma-separated origins such as https://shop.example,http://localhost:3000"}
	var origins []string
	for _, o := range strings.Split(value, ",") {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") {
			return "", bad
		}
		origins = append(origins, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return strings.Join(origins, ","), nil
}

// parseDuration parses a Go duration in [lo, hi]; allowed words the range
// and an example for the error.
func parseDuration(name, value string, lo, hi time.Duration, allowed string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil || d < lo || d > hi {
		return 0, &Error{Name: name, Value: value, Problem: "is not allowed", Allowed: "use a duration from " + allowed}
	}
	return d, nil
}

// httpURL reports whether s is an absolute http or https URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// parseInt parses a base-10 integer in [lo, hi]; hi < lo means no upper bound.
func parseInt(name, value string, lo, hi int64) (int64, error) {
	allowed := fmt.Sprintf("use %d-%d", lo, hi)
	if hi < lo {
		allowed = fmt.Sprintf("use %d or more", lo)
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		problem := "is not an integer"
		if errors.Is(err, strconv.ErrRange) {
			problem = "is out of range"
		}
		return 0, &Error{Name: name, Value: value, Problem: problem, Allowed: allowed}
	}
	if n < lo || (hi >= lo && n > hi) {
		return 0, &Error{Name: name, Value: value, Problem: "is out of range", Allowed: allowed}
	}
	return n, nil
}
