package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/jobs"
)

const alertSecret = "whsec-jobs-test"

// alertReceiver is a local alert channel: it answers the statuses queued,
// then 200, and keeps what it was sent.
type alertReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []alertReceipt
}

type alertReceipt struct {
	header http.Header
	body   []byte
	status int
}

func newAlertReceiver(t *testing.T, statuses ...int) *alertReceiver {
	t.Helper()
	r := &alertReceiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.got = append(r.got, alertReceipt{header: req.Header.Clone(), body: body, status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// requests counts every request; accepted returns the bodies answered 2xx:
// the alerts received.
func (r *alertReceiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *alertReceiver) accepted() []alertReceipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []alertReceipt
	for _, g := range r.got {
		if g.status < 300 {
			out = append(out, g)
		}
	}
	return out
}

// payloads decodes the webhook alerts received, failing the test unless
// every one is signed with alertSecret.
func (r *alertReceiver) payloads(t *testing.T) []alerts.Payload {
	t.Helper()
	var out []alerts.Payload
	for _, g := range r.accepted() {
		if err := alerts.VerifySignature(alertSecret, g.header.Get(alerts.TimestampHeader), g.body, g.header.Get(alerts.SignatureHeader), 0); err != nil {
			t.Errorf("webhook alert %s: %v", g.body, err)
		}
		var p alerts.Payload
		if err := json.Unmarshal(g.body, &p); err != nil {
			t.Fatalf("webhook body %s: %v", g.body, err)
		}
		out = append(out, p)
	}
	return out
}

// texts returns the Slack alerts received.
func (r *alertReceiver) texts(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, g := range r.accepted() {
		var p alerts.SlackPayload
		if err := json.Unmarshal(g.body, &p); err != nil || p.Text == "" {
			t.Fatalf("slack body %s, want {\"text\": ...}", g.body)
		}
		out = append(out, p.Text)
	}
	return out
}

func alertChannels(slack, webhook *alertReceiver) alerts.Channels {
	return alerts.Channels{SlackWebhookURL: slack.URL + "/services/T0/B0/x", WebhookURL: webhook.URL, WebhookSecret: alertSecret}
}

// count runs a count query with the shop id as $1.
func (f *fixture) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), query, f.shopID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The tests below that run worker clients drain every shop's low-stock
// checks, so they run without t.Parallel, like the other client tests.

// With the client running, a hold that leaves a line low reaches both
// channels within moments; crossing again within LOW_STOCK_ALERT_INTERVAL
// sends nothing, and crossing after it alerts again. An oversold order goes
// to the same channels.
func TestLowStockAlertsEndToEnd(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	ctx := context.Background()
	slack, webhook := newAlertReceiver(t), newAlertReceiver(t)
	client := startClient(t, f, jobs.Config{
		Workers: 4, ReaperInterval: time.Hour, Sessions: newSessions(), Refunds: &testkit.FakeRefunds{}, Logger: discard,
		LowStockCheckInterval: 100 * time.Millisecond, LowStockAlertInterval: time.Hour,
		AlertChannels: alertChannels(slack, webhook),
	}, nil)
	f.shop.Stock(t, "A", 10)
	threshold := int64(5)
	if _, err := f.ledger.UpdateSettings(ctx, f.shopID, "A", "", inventory.StockSettings{LowStockThreshold: &threshold}); err != nil {
		t.Fatal(err)
	}
	received := func(n int) func() bool {
		return func() bool { return len(slack.accepted()) == n && len(webhook.accepted()) == n }
	}

	start := time.Now()
	h := f.shop.Hold(t, time.Hour, 6, "A") // 4 left
	// River starts its periodic jobs a second or two after the client.
	waitFor(t, 5*time.Second, "low-stock alert on both channels", received(1))
	t.Logf("alert delivered %s after the hold", time.Since(start).Round(time.Millisecond))
	p := webhook.payloads(t)[0]
	if p.Type != alerts.KindLowStock || p.ShopID != f.shopID || *p.SKU != "A" || *p.Available != 4 || *p.Threshold != 5 {
		t.Errorf("webhook payload %+v", p)
	}
	if text := slack.texts(t)[0]; !strings.Contains(text, "Low stock in shop "+f.shopID+": A has 4 available, at or below its threshold of 5.") {
		t.Errorf("slack text %q", text)
	}
	waitFor(t, 2*time.Second, "deliveries recorded", func() bool {
		return f.count(t, `SELECT count(*) FROM alert_deliveries WHERE shop_id = $1 AND status = 'delivered' AND attempts = 1`) == 2
	})

	// Crossing again within the interval: the check runs and sends nothing.
	if _, err := f.ledger.Release(ctx, f.shopID, h.ID, "test"); err != nil {
		t.Fatal(err)
	}
	f.shop.Hold(t, time.Hour, 8, "A") // 2 left
	waitFor(t, 3*time.Second, "the second crossing checked", func() bool {
		return f.count(t, `SELECT count(*) FROM stock_checks WHERE shop_id = $1`) == 0
	})
	time.Sleep(200 * time.Millisecond) // would-be deliveries
	if n := f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1`); n != 1 || slack.requests() != 1 || webhook.requests() != 1 {
		t.Errorf("after crossing again within the interval: %d alerts, %d and %d requests; want 1, 1, 1", n, slack.requests(), webhook.requests())
	}

	// After the interval.
	if _, err := f.pool.Exec(ctx, `UPDATE stock_lines SET low_stock_alerted_at = now() - interval '61 minutes' WHERE shop_id = $1`, f.shopID); err != nil {
		t.Fatal(err)
	}
	f.shop.Hold(t, time.Hour, 1, "A") // 1 left
	waitFor(t, 5*time.Second, "second low-stock alert after the interval", received(2))
	if p := webhook.payloads(t)[1]; *p.Available != 1 {
		t.Errorf("second alert %+v, want 1 available", p)
	}

	// An oversold order, on the same channels.
	if _, err := client.Insert(ctx, jobs.OversoldAlertArgs{ShopID: f.shopID, OversoldID: "ovs_alerted", CheckoutID: "chk_alerted"}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "oversold alert on both channels", received(3))
	if p := webhook.payloads(t)[2]; p.Type != alerts.KindOversold || *p.OversoldID != "ovs_alerted" {
		t.Errorf("oversold payload %+v", p)
	}
	if text := slack.texts(t)[2]; !strings.Contains(text, "chk_alerted") || !strings.Contains(text, "ovs_alerted") {
		t.Errorf("oversold slack text %q", text)
	}
}

// Two worker clients (two checkoutd work processes) on one database, with
// more checkers racing them: every low line is alerted once, and every
// alert reaches each channel once.
func TestTwoWorkerClientsAlertOnce(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	ctx := context.Background()
	slack, webhook := newAlertReceiver(t), newAlertReceiver(t)
	const lines = 80
	changes := make([]inventory.StockChange, lines)
	for i := range changes {
		changes[i] = inventory.StockChange{SKU: fmt.Sprintf("L%02d", i), Op: inventory.OpSet, Quantity: 5}
	}
	if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: changes}); err != nil {
		t.Fatal(err)
	}
	cfg := jobs.Config{
		Workers: 10, ReaperInterval: time.Hour, Sessions: newSessions(), Refunds: &testkit.FakeRefunds{}, Logger: discard,
		LowStockCheckInterval: 100 * time.Millisecond, AlertChannels: alertChannels(slack, webhook),
		// Past the shop's 80 alerts: TestAlertBudgetPerShop tests the budget.
		AlertBudget: alerts.Budget{PerShop: 1000},
	}
	startClient(t, f, cfg, nil)
	startClient(t, f, cfg, nil)

	// Every line sells out (threshold 0), from several requests at once;
	// then two more checkers race the clients' for the checks.
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for w := range 8 {
		wg.Go(func() {
			var batch []inventory.StockChange
			for i := w; i < lines; i += 8 {
				batch = append(batch, inventory.StockChange{SKU: changes[i].SKU, Op: inventory.OpDecrement, Quantity: 5, Type: inventory.MovementDamage})
			}
			_, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: batch})
			errs <- err
		})
	}
	wg.Wait()
	for range 2 {
		wg.Go(func() {
			w := jobs.NewCheckStockWorker(f.pool, alerts.New(f.ledger, alerts.Config{Channels: cfg.AlertChannels, Budget: cfg.AlertBudget, Logger: discard}))
			ev, err := runOnPrivateClient(ctx, f.pool, river.Worker[jobs.CheckStockArgs](w), jobs.CheckStockArgs{})
			if err == nil && ev.Kind != river.EventKindJobCompleted {
				err = fmt.Errorf("extra checker: %s", outcomeOf(ev).Err)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "every alert on both channels", func() bool {
		return len(slack.accepted()) >= lines && len(webhook.accepted()) >= lines
	})
	t.Logf("%d alerts delivered twice each in %s", lines, time.Since(start).Round(time.Millisecond))
	time.Sleep(200 * time.Millisecond) // would-be duplicates

	if s, w := slack.requests(), webhook.requests(); s != lines || w != lines {
		t.Errorf("slack got %d requests, webhook %d; want %d each", s, w, lines)
	}
	perSKU := map[string]int{}
	perAlert := map[string]int{}
	for _, p := range webhook.payloads(t) {
		perSKU[*p.SKU]++
		perAlert[p.AlertID]++
	}
	for _, c := range changes {
		if perSKU[c.SKU] != 1 {
			t.Errorf("%s alerted %d times, want once", c.SKU, perSKU[c.SKU])
		}
	}
	if len(perAlert) != lines {
		t.Errorf("%d distinct alerts on the webhook, want %d", len(perAlert), lines)
	}
	if n := f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1`); n != lines {
		t.Errorf("%d alerts recorded, want %d", n, lines)
	}
	waitFor(t, 2*time.Second, "deliveries recorded", func() bool {
		return f.count(t, `SELECT count(*) FROM alert_deliveries WHERE shop_id = $1 AND status = 'delivered' AND attempts = 1`) == 2*lines
	})
	// River records completions in batches, a little after the work.
	waitFor(t, 2*time.Second, "delivery jobs completed", func() bool {
		return f.count(t, `SELECT count(*) FROM river_job WHERE kind = 'deliver_alert' AND args->>'shop_id' = $1 AND state = 'completed'`) == 2*lines
	})
	if n := f.count(t, `SELECT count(*) FROM river_job WHERE kind = 'deliver_alert' AND args->>'shop_id' = $1 AND attempt <> 1`); n != 0 {
		t.Errorf("%d delivery jobs took more than one attempt", n)
	}
	var workedBy int
	if err := f.pool.QueryRow(ctx, `SELECT count(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'deliver_alert' AND args->>'shop_id' = $1`, f.shopID).Scan(&workedBy); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d delivery jobs worked by %d clients", 2*lines, workedBy)
}

// immediateRetry retries failed jobs at once, so a test sees River's
// retries without waiting out its backoff.
type immediateRetry struct{}

func (immediateRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Millisecond) }

// deliverOnPrivateClient works a delivery job with River's retries, on a
// queue of its own, and returns the event of its end: completed, or
// discarded once its attempts ran out.
func deliverOnPrivateClient(t *testing.T, f *fixture, ch alerts.Channels, d alerts.Delivery, maxAttempts int) *river.Event {
	t.Helper()
	ctx := context.Background()
	queue := "t_" + randomHex(8)
	workers := river.NewWorkers()
	river.AddWorker(workers, jobs.NewDeliverAlertWorker(f.pool, alerts.New(f.ledger, alerts.Config{Channels: ch, Logger: discard})))
	client, err := river.NewClient(riverpgxv5.New(f.pool), &river.Config{
		Logger:              discard,
		Queues:              map[string]river.QueueConfig{queue: {MaxWorkers: 1}},
		Workers:             workers,
		RetryPolicy:         immediateRetry{},
		FetchCooldown:       10 * time.Millisecond,
		FetchPollInterval:   20 * time.Millisecond,
		SkipUnknownJobCheck: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	}()
	res, err := client.Insert(ctx, jobs.DeliverAlertArgs{ShopID: d.ShopID, AlertID: d.AlertID, Channel: d.Channel},
		&river.InsertOpts{Queue: queue, MaxAttempts: maxAttempts})
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job.ID == res.Job.ID && (ev.Kind != river.EventKindJobFailed || ev.Job.State == rivertype.JobStateDiscarded) {
				return ev
			}
		case <-timeout:
			t.Fatalf("delivery job %d not done within 10s", res.Job.ID)
		}
	}
}

// raiseOversold records an oversold alert of the shop, without enqueuing
// its deliveries.
func (f *fixture) raiseOversold(t *testing.T, ch alerts.Channels, oversoldID string) *alerts.Raised {
	t.Helper()
	var raised *alerts.Raised
	err := pgx.BeginFunc(context.Background(), f.pool, func(tx pgx.Tx) error {
		var err error
		raised, err = alerts.New(f.ledger, alerts.Config{Channels: ch, Logger: discard}).RaiseOversold(context.Background(), tx, f.shopID, oversoldID, "chk_1")
		return err
	})
	if err != nil || raised == nil {
		t.Fatalf("raise oversold alert: %v", err)
	}
	return raised
}

// A receiver answering 500 twice, then 200, gets the alert exactly once:
// River retries the job, the third attempt delivers it.
func TestDeliverAlertRetriedByRiver(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	slack, webhook := newAlertReceiver(t), newAlertReceiver(t, 500, 500)
	ch := alertChannels(slack, webhook)
	raised := f.raiseOversold(t, ch, "ovs_retried")
	d := alerts.Delivery{ShopID: f.shopID, AlertID: raised.AlertID, Channel: alerts.ChannelWebhook}

	ev := deliverOnPrivateClient(t, f, ch, d, jobs.DeliverMaxAttempts)
	if ev.Kind != river.EventKindJobCompleted || ev.Job.Attempt != 3 {
		t.Errorf("job %s after %d attempts, want completed after 3", ev.Kind, ev.Job.Attempt)
	}
	if n := len(webhook.accepted()); n != 1 || webhook.requests() != 3 {
		t.Errorf("receiver took %d alerts in %d requests, want 1 in 3", n, webhook.requests())
	}
	var status, lastError *string
	var attempts int
	err := f.pool.QueryRow(context.Background(), `SELECT status, attempts, last_error_class FROM alert_deliveries WHERE shop_id = $1 AND alert_id = $2 AND channel = 'webhook'`,
		f.shopID, d.AlertID).Scan(&status, &attempts, &lastError)
	if err != nil {
		t.Fatal(err)
	}
	if *status != alerts.StatusDelivered || attempts != 3 || lastError != nil {
		t.Errorf("delivery %s after %d attempts (%v), want delivered after 3", *status, attempts, lastError)
	}
}

// A delivery whose attempts run out is failed, and its job discarded.
func TestDeliverAlertGivesUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	slack, webhook := newAlertReceiver(t, 500, 500, 500), newAlertReceiver(t)
	ch := alertChannels(slack, webhook)
	raised := f.raiseOversold(t, ch, "ovs_failed")
	d := alerts.Delivery{ShopID: f.shopID, AlertID: raised.AlertID, Channel: alerts.ChannelSlack}

	ev := deliverOnPrivateClient(t, f, ch, d, 2)
	if ev.Job.State != rivertype.JobStateDiscarded || ev.Job.Attempt != 2 {
		t.Errorf("job %s after %d attempts, want discarded after 2", ev.Job.State, ev.Job.Attempt)
	}
	if n := f.count(t, `SELECT count(*) FROM alert_deliveries WHERE shop_id = $1 AND channel = 'slack' AND status = 'failed' AND attempts = 2`); n != 1 {
		t.Errorf("no failed delivery after 2 attempts")
	}
	if slack.requests() != 2 {
		t.Errorf("receiver got %d requests, want 2", slack.requests())
	}
}

// Job kinds are stable: jobs already queued must still find their worker
// after a deploy.
func TestAlertJobKinds(t *testing.T) {
	t.Parallel()
	if k := (jobs.CheckStockArgs{}).Kind(); k != "check_low_stock" {
		t.Errorf("CheckStockArgs kind %q", k)
	}
	if k := (jobs.DeliverAlertArgs{}).Kind(); k != "deliver_alert" {
		t.Errorf("DeliverAlertArgs kind %q", k)
	}
}
