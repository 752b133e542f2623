package config

import (
	"errors"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
)

// variables lists every variable Load reads, taken from the env struct so a
// new field cannot be missed by the tests.
func variables(t *testing.T) []string {
	t.Helper()
	typ := reflect.TypeFor[env]()
	names := make([]string, 0, typ.NumField())
	for i := range typ.NumField() {
		name := typ.Field(i).Tag.Get("envconfig")
		if name == "" {
			t.Fatalf("env.%s has no envconfig tag", typ.Field(i).Name)
		}
		names = append(names, name)
	}
	return names
}

// setEnv makes the environment hold exactly vars among the variables Load
// reads, whatever the machine running the tests has set.
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, name := range variables(t) {
		t.Setenv(name, "") // restores the original value after the test
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
	for name, value := range vars {
		t.Setenv(name, value)
	}
}

func TestLoadDefaults(t *testing.T) {
	setEnv(t, nil)
	got, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		DatabaseURL:                "",
		HTTPAddr:                   ":8080",
		InventoryBackend:           "postgres",
		InventoryMode:              checkoutd.ModeValidateOnly,
		HoldTTLSeconds:             1200,
		SkipInventoryValidation:    false,
		LowStockDefaultThreshold:   10,
		LogLevel:                   slog.LevelInfo,
		DatabaseMaxConns:           16,
		LockTimeoutMillis:          3000,
		GroupSize:                  64,
		GroupsInFlight:             2,
		ReadGroupSize:              128,
		AsyncPaymentHoldHours:      72,
		JobWorkers:                 10,
		ReaperInterval:             30 * time.Second,
		StockNotify:                true,
		AvailabilityMaxSubscribers: 10000,
		PublicRateLimit:            20,
		PublicRateLimitBurst:       100,
		PublicStreamsPerIP:         20,
		PublicStreamHeartbeat:      15 * time.Second,
		LowStockCheckInterval:      5 * time.Second,
		LowStockAlertInterval:      24 * time.Hour,
		RateLimitPerShop:           200,
		RateLimitBurst:             400,
		AlertBudgetPerShop:         10,
		AlertBudgetWindow:          10 * time.Minute,
		PurchaseLimitWindow:        24 * time.Hour,
	}
	if got != want {
		t.Errorf("Load() = %+v, want %+v", got, want)
	}
	if got.HoldTTL() != 20*time.Minute {
		t.Errorf("HoldTTL() = %v, want 20m", got.HoldTTL())
	}
	if got.LockTimeout() != 3*time.Second {
		t.Errorf("LockTimeout() = %v, want 3s", got.LockTimeout())
	}
}

func TestLoadValues(t *testing.T) {
	setEnv(t, map[string]string{
		"DATABASE_URL":                "postgres://u@127.0.0.1:5432/db",
		"HTTP_ADDR":                   "127.0.0.1:9000",
		"INVENTORY_BACKEND":           "postgres",
		"INVENTORY_MODE":              "reserve_ttl",
		"INVENTORY_HOLD_TTL_SECONDS":  "60",
		"SKIP_INVENTORY_VALIDATION":   "1",
		"LOW_STOCK_DEFAULT_THRESHOLD": "0",
		"LOG_LEVEL":                   "debug",
		"DATABASE_MAX_CONNS":          "1000",
		"INVENTORY_LOCK_TIMEOUT_MS":   "50",
		"INVENTORY_GROUP_SIZE":        "1",
		"INVENTORY_GROUPS_IN_FLIGHT":  "16",
		"INVENTORY_GROUP_WINDOW":      "500us",
		"INVENTORY_READ_GROUP_SIZE":   "1024",
		"LOW_STOCK_CHECK_INTERVAL":    "1s",
		"LOW_STOCK_ALERT_INTERVAL":    "90m",
		"SLACK_WEBHOOK_URL":           "https://hooks.slack.com/services/T0/B0/x",
		"ALERT_WEBHOOK_URL":           "http://127.0.0.1:9999/alerts",
		"ALERT_WEBHOOK_SECRET":        "s3cret",
		"RATE_LIMIT_PER_SHOP":         "50,75",
		"ALERT_BUDGET_PER_SHOP":       "25",
		"ALERT_BUDGET_WINDOW":         "1h",
	})
	got, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		DatabaseURL:                "postgres://u@127.0.0.1:5432/db",
		HTTPAddr:                   "127.0.0.1:9000",
		InventoryBackend:           "postgres",
		InventoryMode:              checkoutd.ModeReserveTTL,
		HoldTTLSeconds:             60,
		SkipInventoryValidation:    true,
		LowStockDefaultThreshold:   0,
		LogLevel:                   slog.LevelDebug,
		DatabaseMaxConns:           1000,
		LockTimeoutMillis:          50,
		GroupSize:                  1,
		GroupsInFlight:             16,
		GroupWindow:                500 * time.Microsecond,
		ReadGroupSize:              1024,
		AsyncPaymentHoldHours:      72,
		JobWorkers:                 10,
		ReaperInterval:             30 * time.Second,
		StockNotify:                true,
		AvailabilityMaxSubscribers: 10000,
		PublicRateLimit:            20,
		PublicRateLimitBurst:       100,
		PublicStreamsPerIP:         20,
		PublicStreamHeartbeat:      15 * time.Second,
		LowStockCheckInterval:      time.Second,
		LowStockAlertInterval:      90 * time.Minute,
		SlackWebhookURL:            "https://hooks.slack.com/services/T0/B0/x",
		AlertWebhookURL:            "http://127.0.0.1:9999/alerts",
		AlertWebhookSecret:         "s3cret",
		RateLimitPerShop:           50,
		RateLimitBurst:             75,
		AlertBudgetPerShop:         25,
		AlertBudgetWindow:          time.Hour,
		PurchaseLimitWindow:        24 * time.Hour,
	}
	if got != want {
		t.Errorf("Load() = %+v, want %+v", got, want)
	}
	if got.HoldTTL() != time.Minute {
		t.Errorf("HoldTTL() = %v, want 1m", got.HoldTTL())
	}
	if got.LockTimeout() != 50*time.Millisecond {
		t.Errorf("LockTimeout() = %v, want 50ms", got.LockTimeout())
	}
}

func TestLoadAcceptedValues(t *testing.T) {
	tests := []struct {
		name, value string
		check       func(Config) bool
	}{
		{"HTTP_ADDR", ":0", func(c Config) bool { return c.HTTPAddr == ":0" }},
		{"HTTP_ADDR", "[::1]:8080", func(c Config) bool { return c.HTTPAddr == "[::1]:8080" }},
		{"INVENTORY_MODE", "validate_only", func(c Config) bool { return c.InventoryMode == checkoutd.ModeValidateOnly }},
		{"INVENTORY_HOLD_TTL_SECONDS", "3600", func(c Config) bool { return c.HoldTTL() == time.Hour }},
		{"SKIP_INVENTORY_VALIDATION", "0", func(c Config) bool { return !c.SkipInventoryValidation }},
		{"LOW_STOCK_DEFAULT_THRESHOLD", "1000000", func(c Config) bool { return c.LowStockDefaultThreshold == 1000000 }},
		{"LOG_LEVEL", "info", func(c Config) bool { return c.LogLevel == slog.LevelInfo }},
		{"LOG_LEVEL", "warn", func(c Config) bool { return c.LogLevel == slog.LevelWarn }},
		{"LOG_LEVEL", "error", func(c Config) bool { return c.LogLevel == slog.LevelError }},
		{"DATABASE_MAX_CONNS", "1", func(c Config) bool { return c.DatabaseMaxConns == 1 }},
		{"INVENTORY_LOCK_TIMEOUT_MS", "60000", func(c Config) bool { return c.LockTimeout() == time.Minute }},
		{"LOW_STOCK_CHECK_INTERVAL", "1h", func(c Config) bool { return c.LowStockCheckInterval == time.Hour }},
		{"LOW_STOCK_ALERT_INTERVAL", "1m", func(c Config) bool { return c.LowStockAlertInterval == time.Minute }},
		{"LOW_STOCK_ALERT_INTERVAL", "720h", func(c Config) bool { return c.LowStockAlertInterval == 720*time.Hour }},
		{"ALERT_BUDGET_PER_SHOP", "1", func(c Config) bool { return c.AlertBudgetPerShop == 1 }},
		{"ALERT_BUDGET_PER_SHOP", "10000", func(c Config) bool { return c.AlertBudgetPerShop == 10000 }},
		{"ALERT_BUDGET_WINDOW", "1m", func(c Config) bool { return c.AlertBudgetWindow == time.Minute }},
		{"ALERT_BUDGET_WINDOW", "24h", func(c Config) bool { return c.AlertBudgetWindow == 24*time.Hour }},
		{"PURCHASE_LIMIT_WINDOW", "168h", func(c Config) bool { return c.PurchaseLimitWindow == 168*time.Hour }},
		{"SLACK_WEBHOOK_URL", "http://127.0.0.1:8088/slack", func(c Config) bool { return c.SlackWebhookURL == "http://127.0.0.1:8088/slack" }},
		{"RATE_LIMIT_PER_SHOP", "0", func(c Config) bool { return c.RateLimitPerShop == 0 && c.RateLimitBurst == 0 }},
		{"RATE_LIMIT_PER_SHOP", "50", func(c Config) bool { return c.RateLimitPerShop == 50 && c.RateLimitBurst == 100 }},
		{"RATE_LIMIT_PER_SHOP", "1,1", func(c Config) bool { return c.RateLimitPerShop == 1 && c.RateLimitBurst == 1 }},
		{"RATE_LIMIT_PER_SHOP", "100000,1000000", func(c Config) bool { return c.RateLimitPerShop == 100000 && c.RateLimitBurst == 1000000 }},
		// A burst below the rate is a budget too: never more than 10 at once.
		{"RATE_LIMIT_PER_SHOP", "200,10", func(c Config) bool { return c.RateLimitPerShop == 200 && c.RateLimitBurst == 10 }},
		{"CONSOLE_SESSION_KEY", "0123456789abcdef0123456789abcdef", func(c Config) bool {
			return !c.ConsoleEnabled && c.ConsoleSessionKey == "0123456789abcdef0123456789abcdef"
		}},
		{"PPROF_ADDR", "127.0.0.1:6060", func(c Config) bool { return c.PprofAddr == "127.0.0.1:6060" }},
		// A secret without a URL signs nothing, and harms nothing.
		{"ALERT_WEBHOOK_SECRET", "s", func(c Config) bool { return c.AlertWebhookURL == "" && c.AlertWebhookSecret == "s" }},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			setEnv(t, map[string]string{tt.name: tt.value})
			c, err := Load()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("Load() = %+v", c)
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name, value string
		want        string
	}{
		{"HTTP_ADDR", "", `HTTP_ADDR="" is not allowed: use host:port or :port, e.g. :8080`},
		{"HTTP_ADDR", "8080", `HTTP_ADDR="8080" is not allowed: use host:port or :port, e.g. :8080`},

		{"CONSOLE_ENABLED", "yes", `CONSOLE_ENABLED="yes" is not allowed: use 0 or 1`},

		{"INVENTORY_BACKEND", "memory", `INVENTORY_BACKEND="memory" is not allowed: use postgres`},
		{"INVENTORY_BACKEND", "Postgres", `INVENTORY_BACKEND="Postgres" is not allowed: use postgres`},
		{"INVENTORY_BACKEND", "", `INVENTORY_BACKEND="" is not allowed: use postgres`},

		{"INVENTORY_MODE", "reserve", `INVENTORY_MODE="reserve" is not allowed: use validate_only or reserve_ttl`},
		{"INVENTORY_MODE", "RESERVE_TTL", `INVENTORY_MODE="RESERVE_TTL" is not allowed: use validate_only or reserve_ttl`},
		{"INVENTORY_MODE", "", `INVENTORY_MODE="" is not allowed: use validate_only or reserve_ttl`},

		{"INVENTORY_HOLD_TTL_SECONDS", "30", `INVENTORY_HOLD_TTL_SECONDS="30" is out of range: use 60-3600`},
		{"INVENTORY_HOLD_TTL_SECONDS", "59", `INVENTORY_HOLD_TTL_SECONDS="59" is out of range: use 60-3600`},
		{"INVENTORY_HOLD_TTL_SECONDS", "3601", `INVENTORY_HOLD_TTL_SECONDS="3601" is out of range: use 60-3600`},
		{"INVENTORY_HOLD_TTL_SECONDS", "-1200", `INVENTORY_HOLD_TTL_SECONDS="-1200" is out of range: use 60-3600`},
		{"INVENTORY_HOLD_TTL_SECONDS", "20m", `INVENTORY_HOLD_TTL_SECONDS="20m" is not an integer: use 60-3600`},
		{"INVENTORY_HOLD_TTL_SECONDS", "1200.0", `INVENTORY_HOLD_TTL_SECONDS="1200.0" is not an integer: use 60-3600`},
		{"INVENTORY_HOLD_TTL_SECONDS", " 1200", `INVENTORY_HOLD_TTL_SECONDS=" 1200" is not an integer: use 60-3600`},
		{"INVENTORY_HOLD_TTL_SECONDS", "", `INVENTORY_HOLD_TTL_SECONDS="" is not an integer: use 60-3600`},
		{"INVENTORY_HOLD_TTL_SECONDS", "99999999999999999999", `INVENTORY_HOLD_TTL_SECONDS="99999999999999999999" is out of range: use 60-3600`},

		{"SKIP_INVENTORY_VALIDATION", "true", `SKIP_INVENTORY_VALIDATION="true" is not allowed: use 0 or 1`},
		{"SKIP_INVENTORY_VALIDATION", "yes", `SKIP_INVENTORY_VALIDATION="yes" is not allowed: use 0 or 1`},
		{"SKIP_INVENTORY_VALIDATION", "01", `SKIP_INVENTORY_VALIDATION="01" is not allowed: use 0 or 1`},
		{"SKIP_INVENTORY_VALIDATION", "", `SKIP_INVENTORY_VALIDATION="" is not allowed: use 0 or 1`},

		{"LOW_STOCK_DEFAULT_THRESHOLD", "-1", `LOW_STOCK_DEFAULT_THRESHOLD="-1" is out of range: use 0 or more`},
		{"LOW_STOCK_DEFAULT_THRESHOLD", "ten", `LOW_STOCK_DEFAULT_THRESHOLD="ten" is not an integer: use 0 or more`},
		{"LOW_STOCK_DEFAULT_THRESHOLD", "", `LOW_STOCK_DEFAULT_THRESHOLD="" is not an integer: use 0 or more`},

		{"LOG_LEVEL", "trace", `LOG_LEVEL="trace" is not allowed: use debug, info, warn or error`},
		{"LOG_LEVEL", "INFO", `LOG_LEVEL="INFO" is not allowed: use debug, info, warn or error`},
		{"LOG_LEVEL", "warning", `LOG_LEVEL="warning" is not allowed: use debug, info, warn or error`},
		{"LOG_LEVEL", "", `LOG_LEVEL="" is not allowed: use debug, info, warn or error`},

		{"DATABASE_MAX_CONNS", "0", `DATABASE_MAX_CONNS="0" is out of range: use 1-1000`},
		{"DATABASE_MAX_CONNS", "1001", `DATABASE_MAX_CONNS="1001" is out of range: use 1-1000`},
		{"DATABASE_MAX_CONNS", "many", `DATABASE_MAX_CONNS="many" is not an integer: use 1-1000`},

		{"INVENTORY_LOCK_TIMEOUT_MS", "49", `INVENTORY_LOCK_TIMEOUT_MS="49" is out of range: use 50-60000`},
		{"INVENTORY_LOCK_TIMEOUT_MS", "60001", `INVENTORY_LOCK_TIMEOUT_MS="60001" is out of range: use 50-60000`},
		{"INVENTORY_LOCK_TIMEOUT_MS", "3s", `INVENTORY_LOCK_TIMEOUT_MS="3s" is not an integer: use 50-60000`},
		{"PPROF_ADDR", "6060", `PPROF_ADDR="6060" is not allowed: use host:port, e.g. 127.0.0.1:6060, or leave it unset`},
		{"INVENTORY_GROUP_SIZE", "0", `INVENTORY_GROUP_SIZE="0" is out of range: use 1-1024`},
		{"INVENTORY_GROUPS_IN_FLIGHT", "17", `INVENTORY_GROUPS_IN_FLIGHT="17" is out of range: use 1-16`},
		{"INVENTORY_GROUP_WINDOW", "11ms", `INVENTORY_GROUP_WINDOW="11ms" is not allowed: use a duration from 0s to 10ms, such as 0s or 500us`},
		{"INVENTORY_READ_GROUP_SIZE", "x", `INVENTORY_READ_GROUP_SIZE="x" is not an integer: use 1-1024`},
		{"ASYNC_PAYMENT_HOLD_HOURS", "0", `ASYNC_PAYMENT_HOLD_HOURS="0" is out of range: use 1-720`},
		{"STRIPE_REFUND_OVERSOLD", "yes", `STRIPE_REFUND_OVERSOLD="yes" is not allowed: use 0 or 1`},
		{"JOB_WORKERS", "0", `JOB_WORKERS="0" is out of range: use 1-1000`},
		{"STOCK_NOTIFY", "true", `STOCK_NOTIFY="true" is not allowed: use 0 or 1`},
		{"AVAILABILITY_MAX_SUBSCRIBERS", "0", `AVAILABILITY_MAX_SUBSCRIBERS="0" is out of range: use 1-1000000`},
		{"REAPER_INTERVAL", "30", `REAPER_INTERVAL="30" is not allowed: use a duration from 1s to 1h, such as 30s`},
		{"REAPER_INTERVAL", "2h", `REAPER_INTERVAL="2h" is not allowed: use a duration from 1s to 1h, such as 30s`},
		{"ASYNC_PAYMENT_HOLD_HOURS", "3d", `ASYNC_PAYMENT_HOLD_HOURS="3d" is not an integer: use 1-720`},
		{"STRIPE_API_BASE", "localhost:12111", `STRIPE_API_BASE="localhost:12111" is not a URL: use an http(s) URL such as http://127.0.0.1:12111`},

		{"LOW_STOCK_CHECK_INTERVAL", "250ms", `LOW_STOCK_CHECK_INTERVAL="250ms" is not allowed: use a duration from 1s to 1h, such as 5s`},
		{"LOW_STOCK_CHECK_INTERVAL", "2h", `LOW_STOCK_CHECK_INTERVAL="2h" is not allowed: use a duration from 1s to 1h, such as 5s`},
		{"LOW_STOCK_CHECK_INTERVAL", "5", `LOW_STOCK_CHECK_INTERVAL="5" is not allowed: use a duration from 1s to 1h, such as 5s`},
		{"LOW_STOCK_CHECK_INTERVAL", "", `LOW_STOCK_CHECK_INTERVAL="" is not allowed: use a duration from 1s to 1h, such as 5s`},
		{"LOW_STOCK_ALERT_INTERVAL", "59s", `LOW_STOCK_ALERT_INTERVAL="59s" is not allowed: use a duration from 1m to 720h, such as 24h`},
		{"LOW_STOCK_ALERT_INTERVAL", "721h", `LOW_STOCK_ALERT_INTERVAL="721h" is not allowed: use a duration from 1m to 720h, such as 24h`},
		{"LOW_STOCK_ALERT_INTERVAL", "1d", `LOW_STOCK_ALERT_INTERVAL="1d" is not allowed: use a duration from 1m to 720h, such as 24h`},
		{"LOW_STOCK_ALERT_INTERVAL", "", `LOW_STOCK_ALERT_INTERVAL="" is not allowed: use a duration from 1m to 720h, such as 24h`},
		{"ALERT_BUDGET_PER_SHOP", "0", `ALERT_BUDGET_PER_SHOP="0" is out of range: use 1-10000`},
		{"ALERT_BUDGET_PER_SHOP", "ten", `ALERT_BUDGET_PER_SHOP="ten" is not an integer: use 1-10000`},
		{"ALERT_BUDGET_WINDOW", "59s", `ALERT_BUDGET_WINDOW="59s" is not allowed: use a duration from 1m to 24h, such as 10m`},
		{"ALERT_BUDGET_WINDOW", "25h", `ALERT_BUDGET_WINDOW="25h" is not allowed: use a duration from 1m to 24h, such as 10m`},
		{"SLACK_WEBHOOK_URL", "hooks.slack.com/services/T0/B0/x", `SLACK_WEBHOOK_URL="hooks.slack.com/services/T0/B0/x" is not a URL: use the http(s) URL of a Slack incoming webhook, such as https://hooks.slack.com/services/...`},
		{"SLACK_WEBHOOK_URL", "ftp://hooks.slack.com/x", `SLACK_WEBHOOK_URL="ftp://hooks.slack.com/x" is not a URL: use the http(s) URL of a Slack incoming webhook, such as https://hooks.slack.com/services/...`},
		{"ALERT_WEBHOOK_URL", "localhost:9000/alerts", `ALERT_WEBHOOK_URL="localhost:9000/alerts" is not a URL: use an http(s) URL such as https://alerts.example.com/checkoutd`},
		{"ALERT_WEBHOOK_URL", "https://", `ALERT_WEBHOOK_URL="https://" is not a URL: use an http(s) URL such as https://alerts.example.com/checkoutd`},

		{"RATE_LIMIT_PER_SHOP", "", `RATE_LIMIT_PER_SHOP="" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "off", `RATE_LIMIT_PER_SHOP="off" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "-1", `RATE_LIMIT_PER_SHOP="-1" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "100001", `RATE_LIMIT_PER_SHOP="100001" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "1.5", `RATE_LIMIT_PER_SHOP="1.5" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "200,", `RATE_LIMIT_PER_SHOP="200," is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", ",400", `RATE_LIMIT_PER_SHOP=",400" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "200,0", `RATE_LIMIT_PER_SHOP="200,0" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "200,1000001", `RATE_LIMIT_PER_SHOP="200,1000001" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "0,400", `RATE_LIMIT_PER_SHOP="0,400" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "200,400,1", `RATE_LIMIT_PER_SHOP="200,400,1" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "200, 400", `RATE_LIMIT_PER_SHOP="200, 400" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "200;400", `RATE_LIMIT_PER_SHOP="200;400" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
		{"RATE_LIMIT_PER_SHOP", "200/s", `RATE_LIMIT_PER_SHOP="200/s" is not allowed: use 0 (off), or requests per second 1-100000 and an optional burst 1-1000000, such as 200 or 200,400`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			setEnv(t, map[string]string{tt.name: tt.value})
			_, err := Load()
			if err == nil {
				t.Fatal("Load succeeded, want error")
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
			var cfgErr *Error
			if !errors.As(err, &cfgErr) || cfgErr.Name != tt.name || cfgErr.Value != tt.value {
				t.Errorf("error = %#v, want *Error for %s=%q", err, tt.name, tt.value)
			}
		})
	}
}

// A webhook URL without its secret would send alerts nobody can verify.
func TestLoadRequiresAlertWebhookSecret(t *testing.T) {
	setEnv(t, map[string]string{"ALERT_WEBHOOK_URL": "https://alerts.example.com/checkoutd"})
	_, err := Load()
	want := "ALERT_WEBHOOK_SECRET is not set: set it whenever ALERT_WEBHOOK_URL is set (alerts are signed with it), e.g. to the output of openssl rand -hex 32"
	if err == nil || err.Error() != want {
		t.Errorf("Load() error = %v, want %s", err, want)
	}
	var cfgErr *Error
	if !errors.As(err, &cfgErr) || cfgErr.Name != "ALERT_WEBHOOK_SECRET" {
		t.Errorf("error = %#v, want *Error for ALERT_WEBHOOK_SECRET", err)
	}

	setEnv(t, map[string]string{"ALERT_WEBHOOK_URL": "https://alerts.example.com/checkoutd", "ALERT_WEBHOOK_SECRET": "s3cret"})
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.AlertWebhookURL != "https://alerts.example.com/checkoutd" || c.AlertWebhookSecret != "s3cret" {
		t.Errorf("Load() = %+v", c)
	}
}

// TestLoadReportsFirstBadVariable keeps the message to one line when several
// variables are wrong.
func TestLoadReportsFirstBadVariable(t *testing.T) {
	setEnv(t, map[string]string{"INVENTORY_MODE": "x", "LOG_LEVEL": "y"})
	_, err := Load()
	want := `INVENTORY_MODE="x" is not allowed: use validate_only or reserve_ttl`
	if err == nil || err.Error() != want {
		t.Errorf("Load() error = %v, want %s", err, want)
	}
}

func TestRequireDatabaseURL(t *testing.T) {
	setEnv(t, nil)
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	err = c.RequireDatabaseURL()
	want := "DATABASE_URL is not set: use a PostgreSQL URL such as postgres://checkoutd@localhost:5432/checkoutd"
	if err == nil || err.Error() != want {
		t.Errorf("RequireDatabaseURL() = %v, want %s", err, want)
	}

	setEnv(t, map[string]string{"DATABASE_URL": "postgres://localhost/checkoutd"})
	if c, err = Load(); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := c.RequireDatabaseURL(); err != nil {
		t.Errorf("RequireDatabaseURL() = %v, want nil", err)
	}
}

func TestLoadConsoleNeedsASigningSecret(t *testing.T) {
	setEnv(t, map[string]string{"CONSOLE_ENABLED": "1", "INVENTORY_AUTHORITY_TOKEN": ""})
	_, err := Load()
	var cfgErr *Error
	if !errors.As(err, &cfgErr) || cfgErr.Name != "CONSOLE_SESSION_KEY" {
		t.Fatalf("error = %v, want *Error for CONSOLE_SESSION_KEY", err)
	}
	// A key too short to trust is refused, and not repeated in the message.
	setEnv(t, map[string]string{"CONSOLE_SESSION_KEY": "short-secret"})
	_, err = Load()
	if err == nil || strings.Contains(err.Error(), "short-secret") || !strings.Contains(err.Error(), "CONSOLE_SESSION_KEY") {
		t.Fatalf("error = %v, want one naming CONSOLE_SESSION_KEY without its value", err)
	}
	setEnv(t, map[string]string{"CONSOLE_ENABLED": "1", "INVENTORY_AUTHORITY_TOKEN": "tok"})
	if c, err := Load(); err != nil || !c.ConsoleEnabled {
		t.Fatalf("Load() = %+v, %v: the token is enough", c, err)
	}
}
