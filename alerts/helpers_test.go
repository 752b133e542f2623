package alerts_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// The package's tests share one database, and CheckStock takes the
// requested checks of every shop in it, raising their alerts with the
// channels of whichever Alerter takes them. So tests that call CheckStock
// run without t.Parallel (Go runs them one by one, before the parallel
// ones); parallel tests raise alerts with RaiseOversold or SQL only.

// discard is a logger for code whose logs no test looks at.
var discard = slog.New(slog.DiscardHandler)

// threshold is the fixtures' LOW_STOCK_DEFAULT_THRESHOLD.
const threshold = 5

// webhookSecret is the fixtures' ALERT_WEBHOOK_SECRET.
const webhookSecret = "whsec-alerts-test"

// fixture is a fresh shop on the package's test database.
type fixture struct {
	pool   *pgxpool.Pool
	ledger *inventory.Ledger
	shopID string
	shop   *inventorytest.Shop
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	pool := testdb.Pool(tb)
	ledger := inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: threshold, Logger: discard})
	shop := inventorytest.NewShop(tb, ledger, &inventorytest.ShopOpts{Name: "alerts test shop"})
	return &fixture{pool: pool, ledger: ledger, shopID: shop.ID, shop: shop}
}

// alerter returns an Alerter over the fixture's ledger, with a budget no
// test but the budget's own reaches.
func (f *fixture) alerter(ch alerts.Channels) *alerts.Alerter {
	return f.alerterWithBudget(ch, alerts.Budget{PerShop: 10000, Window: time.Hour})
}

func (f *fixture) alerterWithBudget(ch alerts.Channels, b alerts.Budget) *alerts.Alerter {
	return alerts.New(f.ledger, alerts.Config{Channels: ch, Budget: b, Logger: discard})
}

// stock sets on_hand of a line at the default location.
func (f *fixture) stock(tb testing.TB, sku, variantKey string, onHand int64) {
	tb.Helper()
	f.shop.StockLine(tb, sku, variantKey, "", onHand)
}

// reserve holds qty of a line for an hour: a change that lowers available
// stock.
func (f *fixture) reserve(tb testing.TB, sku, variantKey string, qty int64) *inventory.Hold {
	tb.Helper()
	return f.shop.Reserve(tb, inventorytest.HoldOpts{Lines: []inventory.Line{{SKU: sku, VariantKey: variantKey, Quantity: qty}}})
}

// check runs CheckStock with a until no check of the fixture's shop is
// left, and returns the deliveries it asked for.
func (f *fixture) check(tb testing.TB, a *alerts.Alerter) []alerts.Delivery {
	tb.Helper()
	ctx := context.Background()
	var ds []alerts.Delivery
	for range 100 {
		err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
			res, err := a.CheckStock(ctx, tx, 100)
			ds = append(ds, res.Deliveries...)
			return err
		})
		if err != nil {
			tb.Fatalf("check stock: %v", err)
		}
		if f.count(tb, `SELECT count(*) FROM stock_checks WHERE shop_id = $1`) == 0 {
			return ds
		}
	}
	tb.Fatal("the shop's stock checks were never all taken")
	return nil
}

// count runs a count query with the shop id as $1.
func (f *fixture) count(tb testing.TB, query string) int {
	tb.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), query, f.shopID).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// delivery is a row of alert_deliveries.
type delivery struct {
	Status    string
	Attempts  int
	LastError *string
	Delivered bool
}

func (f *fixture) delivery(tb testing.TB, d alerts.Delivery) delivery {
	tb.Helper()
	var out delivery
	err := f.pool.QueryRow(context.Background(), `
		SELECT status, attempts, last_error_class, delivered_at IS NOT NULL FROM alert_deliveries
		WHERE shop_id = $1 AND alert_id = $2 AND channel = $3`, d.ShopID, d.AlertID, d.Channel).
		Scan(&out.Status, &out.Attempts, &out.LastError, &out.Delivered)
	if err != nil {
		tb.Fatalf("read delivery %+v: %v", d, err)
	}
	return out
}

// raiseOversold raises the alert of an oversold order in a transaction of
// its own.
func (f *fixture) raiseOversold(tb testing.TB, a *alerts.Alerter, oversoldID string) *alerts.Raised {
	tb.Helper()
	var raised *alerts.Raised
	err := pgx.BeginFunc(context.Background(), f.pool, func(tx pgx.Tx) error {
		var err error
		raised, err = a.RaiseOversold(context.Background(), tx, f.shopID, oversoldID, "chk_"+oversoldID)
		return err
	})
	if err != nil {
		tb.Fatalf("raise oversold alert: %v", err)
	}
	return raised
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	// Status is what the receiver answered.
	Status int
}

// receiver is a local alert channel. It answers the statuses queued with
// answer, then 200.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	statuses []int
}

func newReceiver(tb testing.TB, statuses ...int) *receiver {
	tb.Helper()
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.got = append(r.got, received{Header: req.Header.Clone(), Body: body, Status: status})
		r.mu.Unlock()
		if status == http.StatusFound {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
	}))
	tb.Cleanup(r.Close)
	return r
}

// requests returns every request received.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// accepted returns the requests answered 2xx: the alerts received.
func (r *receiver) accepted() []received {
	var out []received
	for _, g := range r.requests() {
		if g.Status >= 200 && g.Status < 300 {
			out = append(out, g)
		}
	}
	return out
}

// channels are both channels, on slack and webhook.
func channels(slack, webhook *receiver) alerts.Channels {
	return alerts.Channels{SlackWebhookURL: slack.URL + "/services/T0/B0/slacktoken", WebhookURL: webhook.URL + "/alerts", WebhookSecret: webhookSecret}
}
