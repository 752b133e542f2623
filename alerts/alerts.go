// Package alerts tells the people running a shop when something needs them:
// a stock line running low, or a paid order the stock could not cover.
//
// An alert is recorded in the database with one delivery per configured
// channel (a Slack incoming webhook, a generic signed JSON webhook), in the
// transaction of whatever raised it; the caller enqueues a job per delivery
// in that same transaction, and each job sends its delivery with Deliver,
// retried on its own. So an alert is recorded once, and each delivery is
// sent until a receiver takes it and never after, however often its job
// runs. The one gap is a process dying between the receiver's 2xx and the
// record of it: the delivery is then sent again, which is why the webhook
// payload carries alertId to deduplicate on.
//
// Low-stock checks come from the stock_checks outbox: every change that
// lowers a line's stock asks for a check of the line in its own
// transaction, and CheckStock drains those requests, alerting for lines at
// or below their threshold at most once per line per Config.Interval.
//
// The channels are shared by every shop, so one shop's low-stock alerts are
// capped by a Budget: past it, they are recorded and held, and one digest
// per window carries them (RaiseDigest).
package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/alerts/internal/db"
	"github.com/checkoutd/checkoutd/internal/aftercommit"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/ids"
	"github.com/checkoutd/checkoutd/inventory"
)

// The kinds of alert.
const (
	// KindLowStock: a stock line's available stock fell to or below its
	// low-stock threshold.
	KindLowStock = "low_stock"
	// KindOversold: a paid order found its stock gone (see the webhooks'
	// oversold orders).
	KindOversold = "oversold"
)

// The channels an alert is delivered to.
const (
	// ChannelSlack is a Slack incoming webhook (SLACK_WEBHOOK_URL).
	ChannelSlack = "slack"
	// ChannelWebhook is a generic JSON webhook signed with HMAC-SHA256
	// (ALERT_WEBHOOK_URL, ALERT_WEBHOOK_SECRET).
	ChannelWebhook = "webhook"
)

// The states of a delivery.
const (
	// StatusPending: not delivered yet; its job will try (again).
	StatusPending = "pending"
	// StatusDelivered: the channel answered 2xx.
	StatusDelivered = "delivered"
	// StatusFailed: the job gave up, or the channel is no longer configured.
	StatusFailed = "failed"
)

// DefaultInterval is the default of Config.Interval
// (LOW_STOCK_ALERT_INTERVAL).
const DefaultInterval = 24 * time.Hour

// DefaultHTTPTimeout bounds one delivery request when Channels.HTTPClient
// is nil.
const DefaultHTTPTimeout = 10 * time.Second

// Channels are where alerts are delivered. A channel with an empty URL is
// off; with none on, alerts are still recorded and listed, and sent nowhere.
type Channels struct {
	// SlackWebhookURL is a Slack incoming webhook (SLACK_WEBHOOK_URL).
	SlackWebhookURL string
	// WebhookURL receives the signed JSON payload (ALERT_WEBHOOK_URL).
	WebhookURL string
	// WebhookSecret signs the JSON payload (ALERT_WEBHOOK_SECRET); see
	// Sign.
	WebhookSecret string
	// HTTPClient sends deliveries. Nil means a client with a
	// DefaultHTTPTimeout timeout that does not follow redirects: a POST
	// redirected would arrive as a GET, so a 3xx counts as a failure.
	HTTPClient *http.Client
}

// Names returns the channels that are on, in a fixed order.
func (c Channels) Names() []string {
	var names []string
	if c.SlackWebhookURL != "" {
		names = append(names, ChannelSlack)
	}
	if c.WebhookURL != "" {
		names = append(names, ChannelWebhook)
	}
	return names
}

// Config configures an Alerter.
type Config struct {
	// Interval is the least time between two low-stock alerts of one line
	// (LOW_STOCK_ALERT_INTERVAL, default DefaultInterval; whole seconds).
	Interval time.Duration
	// Channels are where alerts go.
	Channels Channels
	// Budget caps one shop's low-stock alerts on the channels.
	Budget Budget
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
}

// Alerter raises alerts and delivers them. It is safe for concurrent use,
// and any number of processes may share the database.
type Alerter struct {
	ledger   *inventory.Ledger
	queries  *db.Queries
	interval time.Duration
	channels Channels
	budget   Budget
	client   *http.Client
	log      *slog.Logger
}

// New returns an Alerter reading stock through ledger, whose
// DefaultLowStockThreshold applies to lines without a threshold of their
// own.
func New(ledger *inventory.Ledger, cfg Config) *Alerter {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client := cfg.Channels.HTTPClient
	if client == nil {
		client = &http.Client{
			Timeout:       DefaultHTTPTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Alerter{
		ledger: ledger, queries: db.New(), interval: cfg.Interval,
		channels: cfg.Channels, budget: cfg.Budget.withDefaults(), client: client, log: cfg.Logger,
	}
}

// Delivery is one alert to send over one channel: what a delivery job
// carries.
type Delivery struct {
	ShopID  string
	AlertID string
	Channel string
}

// CheckResult is what one CheckStock did.
type CheckResult struct {
	// Checked is how many requested checks were taken: fewer than asked
	// means the outbox is empty, for now.
	Checked int
	// Alerts is how many low-stock alerts were raised, Held included.
	Alerts int
	// Held is how many of them came over their shop's budget: recorded,
	// without deliveries of their own, for a digest.
	Held int
	// Deliveries are the deliveries the alerts sent on their own need; the
	// caller enqueues a job for each in the same transaction.
	Deliveries []Delivery
	// Digests are the digests the held alerts ask for; the caller enqueues
	// each, in the same transaction, to run at its At.
	Digests []Digest

	// logs holds the check's log lines back until Committed.
	logs *aftercommit.Queue
}

// Committed logs what the check did. Call it once the check's transaction
// has committed: an alert that rolled back was never raised.
func (r CheckResult) Committed() {
	if r.logs != nil {
		r.logs.Flush()
	}
}

// CheckStock takes up to batch requested low-stock checks in tx and raises an
// alert for each line whose available stock is at or below its threshold,
// unless the line had one within the interval. An alert over its shop's
// budget is held for a digest instead of delivered. Checkers running side by
// side take different requests. Everything, the requests taken included,
// commits or rolls back with tx, so a failed check is asked again.
//
// Taken requests block stock changes that would ask for the same line until
// tx ends, so keep tx short and batch modest (a hundred or so).
func (a *Alerter) CheckStock(ctx context.Context, tx pgx.Tx, batch int) (CheckResult, error) {
	res := CheckResult{logs: &aftercommit.Queue{}}
	log := aftercommit.Logger(a.log, res.logs)
	checks, err := a.ledger.TakeStockChecks(ctx, tx, batch)
	if err != nil {
		return res, err
	}
	res.Checked = len(checks)
	// Reading through tx sees the stock as this transaction does; the
	// ledger discounts lapsed holds, so a line is low only on what can be
	// sold.
	ledger := a.ledger.WithTx(tx)
	var low []lowLine
	for _, c := range checks {
		info, err := ledger.StockInfo(ctx, c.ShopID, c.SKU, c.VariantKey)
		var invalid *checkoutd.ValidationError
		switch {
		case errors.Is(err, inventory.ErrStockLineNotFound), errors.Is(err, checkoutd.ErrShopNotFound):
			continue
		case errors.As(err, &invalid):
			// No query ran, so tx is fine; the request can never succeed.
			log.WarnContext(ctx, "low-stock check of an invalid line dropped",
				"shop_id", c.ShopID, "sku", c.SKU, "variant_key", c.VariantKey, "error", err.Error())
			continue
		case err != nil:
			return res, fmt.Errorf("check stock of %s %s[%s]: %w", c.ShopID, c.SKU, c.VariantKey, err)
		}
		if !info.LowStock {
			continue
		}
		// The debounce: one alert per line per interval, however many
		// checkers or crossings.
		claimed, err := ledger.ClaimLowStockAlert(ctx, tx, c.ShopID, c.SKU, c.VariantKey, a.interval)
		if err != nil {
			return res, err
		}
		if !claimed {
			continue
		}
		low = append(low, lowLine{shopID: c.ShopID, sku: c.SKU, variantKey: c.VariantKey,
			available: info.Available, threshold: info.LowStockThreshold})
	}

	// The budget is claimed per shop once the batch is known, so its row
	// stays locked only for the inserts below, not for the whole check: a
	// checker of the same shop waits on it. Shops in order, so that two
	// checkers never wait on each other's rows.
	slices.SortStableFunc(low, func(x, y lowLine) int { return strings.Compare(x.shopID, y.shopID) })
	for i := 0; i < len(low); {
		shopID := low[i].shopID
		n := 1
		for i+n < len(low) && low[i+n].shopID == shopID {
			n++
		}
		sent, digest, err := a.claimBudget(ctx, tx, shopID, n)
		if err != nil {
			return res, err
		}
		if digest != nil {
			res.Digests = append(res.Digests, *digest)
		}
		for j, l := range low[i : i+n] {
			if err := a.raiseLowStock(ctx, tx, log, l, j >= sent, &res); err != nil {
				return res, err
			}
		}
		i += n
	}
	return res, nil
}

// lowLine is a line found low whose alert the debounce let through.
type lowLine struct {
	shopID, sku, variantKey string
	available, threshold    int64
}

// raiseLowStock records the low-stock alert of l, held for the shop's
// digest or with its deliveries, and adds it to res.
func (a *Alerter) raiseLowStock(ctx context.Context, tx pgx.Tx, log *slog.Logger, l lowLine, held bool, res *CheckResult) error {
	id := ids.New("alr_")
	_, err := a.queries.InsertAlert(ctx, tx, db.InsertAlertParams{
		ShopID: l.shopID, ID: id, Kind: KindLowStock, Sku: &l.sku, VariantKey: &l.variantKey,
		Available: &l.available, Threshold: &l.threshold,
		Message: lowStockMessage(l.shopID, l.sku, l.variantKey, l.available, l.threshold), Held: held,
	})
	if err != nil {
		return database.WrapError("record low-stock alert", err)
	}
	res.Alerts++
	log = log.With("shop_id", l.shopID, "alert_id", id, "sku", l.sku, "variant_key", l.variantKey,
		"available", l.available, "threshold", l.threshold)
	if held {
		res.Held++
		log.InfoContext(ctx, "low-stock alert held for the shop's digest: over its alert budget")
		return nil
	}
	ds, err := a.addDeliveries(ctx, tx, l.shopID, id)
	if err != nil {
		return err
	}
	res.Deliveries = append(res.Deliveries, ds...)
	log.WarnContext(ctx, "low-stock alert raised", "channels", a.channels.Names())
	return nil
}

// Raised is an alert just recorded.
type Raised struct {
	AlertID string
	// Carries is how many held alerts a digest carries; 0 for other kinds.
	Carries int
	// Deliveries are the alert's deliveries, one per channel that is on;
	// the caller enqueues a job for each in the same transaction.
	Deliveries []Delivery
}

// RaiseOversold records, in tx, the alert of an oversold order. An order
// has one alert however often this runs (a retried job): when it already
// has one, RaiseOversold returns nil and no deliveries.
func (a *Alerter) RaiseOversold(ctx context.Context, tx pgx.Tx, shopID, oversoldID, checkoutID string) (*Raised, error) {
	id := ids.New("alr_")
	_, err := a.queries.InsertAlert(ctx, tx, db.InsertAlertParams{
		ShopID: shopID, ID: id, Kind: KindOversold, OversoldID: &oversoldID,
		Message: oversoldMessage(shopID, oversoldID, checkoutID),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		// alerts_oversold: the order's alert exists, with its deliveries.
		return nil, nil
	}
	if err != nil {
		return nil, database.WrapError("record oversold alert", err)
	}
	ds, err := a.addDeliveries(ctx, tx, shopID, id)
	if err != nil {
		return nil, err
	}
	return &Raised{AlertID: id, Deliveries: ds}, nil
}

// addDeliveries records a pending delivery of the alert per channel.
func (a *Alerter) addDeliveries(ctx context.Context, tx pgx.Tx, shopID, alertID string) ([]Delivery, error) {
	var ds []Delivery
	for _, ch := range a.channels.Names() {
		err := a.queries.InsertAlertDelivery(ctx, tx, db.InsertAlertDeliveryParams{ShopID: shopID, AlertID: alertID, Channel: ch})
		if err != nil {
			return nil, database.WrapError("record alert delivery", err)
		}
		ds = append(ds, Delivery{ShopID: shopID, AlertID: alertID, Channel: ch})
	}
	return ds, nil
}

// lineName is how messages name a stock line: the SKU, and its variant in
// brackets.
func lineName(sku, variantKey string) string {
	if variantKey == "" {
		return sku
	}
	return sku + " [" + variantKey + "]"
}

func lowStockMessage(shopID, sku, variantKey string, available, threshold int64) string {
	return fmt.Sprintf("Low stock in shop %s: %s has %d available, at or below its threshold of %d.",
		shopID, lineName(sku, variantKey), available, threshold)
}

func oversoldMessage(shopID, oversoldID, checkoutID string) string {
	return fmt.Sprintf("Oversold order in shop %s: checkout %s was paid after its stock was gone; "+
		"refund it or find the stock (oversold order %s).", shopID, checkoutID, oversoldID)
}
