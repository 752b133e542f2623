package alerts_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/inventory"
)

// These tests call CheckStock, which takes every shop's requested checks:
// they run without t.Parallel.

// A hold that leaves a line at or below its threshold raises one alert,
// delivered to a local Slack receiver in Slack's format and to a local
// webhook receiver as signed JSON whose signature verifies. A line lowered
// but left above its threshold raises nothing.
func TestLowStockAlertDelivered(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	slack, webhook := newReceiver(t), newReceiver(t)
	a := f.alerter(channels(slack, webhook))
	const variant = "size:<M&L>" // Slack reserves <, > and &
	f.stock(t, "TEE", variant, 10)
	f.stock(t, "MUG", "", 20)
	f.reserve(t, "TEE", variant, 7) // 3 left, threshold 5
	f.reserve(t, "MUG", "", 2)      // 18 left
	if _, err := f.ledger.UpdateSettings(ctx, f.shopID, "MUG", "", inventory.StockSettings{LowStockThreshold: ptr[int64](17)}); err != nil {
		t.Fatal(err)
	}
	f.reserve(t, "MUG", "", 1) // 17 left, at MUG's own threshold

	ds := f.check(t, a)
	if n := f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1`); n != 2 || len(ds) != 4 {
		t.Fatalf("%d alerts and %d deliveries, want 2 and 4 (TEE and MUG, on both channels)", n, len(ds))
	}
	for _, d := range ds {
		if st := f.delivery(t, d); st.Status != alerts.StatusPending || st.Attempts != 0 {
			t.Errorf("delivery %+v before sending: %+v, want pending, 0 attempts", d, st)
		}
		if err := a.Deliver(ctx, f.pool, d, false); err != nil {
			t.Fatalf("deliver %+v: %v", d, err)
		}
		if st := f.delivery(t, d); st.Status != alerts.StatusDelivered || st.Attempts != 1 || !st.Delivered || st.LastError != nil {
			t.Errorf("delivery %+v after sending: %+v, want delivered after 1 attempt", d, st)
		}
	}

	// Slack: {"text": ...}, naming the shop, the line, what is left and the
	// threshold, with Slack's reserved characters escaped.
	var texts []string
	for _, got := range slack.accepted() {
		var body map[string]any
		if err := json.Unmarshal(got.Body, &body); err != nil || len(body) != 1 {
			t.Fatalf("slack body %s, want {\"text\": ...}", got.Body)
		}
		text, _ := body["text"].(string)
		texts = append(texts, text)
		if ct := got.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("slack Content-Type %q", ct)
		}
	}
	if len(texts) != 2 {
		t.Fatalf("slack got %d alerts, want 2", len(texts))
	}
	joined := strings.Join(texts, "\n")
	for _, want := range []string{
		"Low stock in shop " + f.shopID + ": TEE [size:&lt;M&amp;L&gt;] has 3 available, at or below its threshold of 5.",
		"MUG has 17 available, at or below its threshold of 17.",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("slack texts %q do not contain %q", texts, want)
		}
	}

	// The webhook: signed JSON.
	var tee *alerts.Payload
	for _, got := range webhook.accepted() {
		ts, sig := got.Header.Get(alerts.TimestampHeader), got.Header.Get(alerts.SignatureHeader)
		if err := alerts.VerifySignature(webhookSecret, ts, got.Body, sig, time.Minute); err != nil {
			t.Errorf("signature %q over %s at %s: %v", sig, got.Body, ts, err)
		}
		if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
			t.Errorf("timestamp %q is not the Unix time of sending", ts)
		}
		if err := alerts.VerifySignature("another secret", ts, got.Body, sig, time.Minute); !errors.Is(err, alerts.ErrBadSignature) {
			t.Errorf("signature verified under the wrong secret: %v", err)
		}
		tampered := []byte(strings.Replace(string(got.Body), `"type":"low_stock"`, `"type":"oversold"`, 1))
		if err := alerts.VerifySignature(webhookSecret, ts, tampered, sig, time.Minute); !errors.Is(err, alerts.ErrBadSignature) {
			t.Errorf("signature verified over a changed body: %v", err)
		}
		var keys map[string]any
		if err := json.Unmarshal(got.Body, &keys); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"type", "shopId", "alertId", "sku", "variantKey", "available", "threshold", "oversoldId", "message", "createdAt"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("webhook body has no %q: %s", k, got.Body)
			}
		}
		var p alerts.Payload
		if err := json.Unmarshal(got.Body, &p); err != nil {
			t.Fatal(err)
		}
		if p.SKU != nil && *p.SKU == "TEE" {
			tee = &p
		}
	}
	if n := len(webhook.accepted()); n != 2 {
		t.Fatalf("webhook got %d alerts, want 2", n)
	}
	if tee == nil {
		t.Fatal("webhook got no alert of TEE")
	}
	if tee.Type != alerts.KindLowStock || tee.ShopID != f.shopID || !strings.HasPrefix(tee.AlertID, "alr_") ||
		deref(tee.VariantKey) != variant || deref(tee.Available) != 3 || deref(tee.Threshold) != 5 || tee.OversoldID != nil ||
		!strings.Contains(tee.Message, "TEE [size:<M&L>] has 3 available") || time.Since(tee.CreatedAt) > time.Minute {
		t.Errorf("webhook payload %+v", *tee)
	}

	// Delivering again sends nothing: the job may run twice, the alert goes
	// out once.
	for _, d := range ds {
		if err := a.Deliver(ctx, f.pool, d, false); err != nil {
			t.Fatal(err)
		}
	}
	if s, w := len(slack.requests()), len(webhook.requests()); s != 2 || w != 2 {
		t.Errorf("after delivering again: slack %d requests, webhook %d; want 2 each", s, w)
	}
}

// A line that crosses its threshold again within LOW_STOCK_ALERT_INTERVAL
// raises nothing; once the interval has passed it alerts again.
func TestLowStockAlertDebounced(t *testing.T) {
	f := newFixture(t)
	slack, webhook := newReceiver(t), newReceiver(t)
	a := alerts.New(f.ledger, alerts.Config{Interval: time.Hour, Channels: channels(slack, webhook), Logger: discard})
	f.stock(t, "A", "", 10)
	alertsOfA := func() int {
		return f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1 AND sku = 'A'`)
	}

	h := f.reserve(t, "A", "", 6) // 4 left
	if ds := f.check(t, a); len(ds) != 2 || alertsOfA() != 1 {
		t.Fatalf("first crossing: %d alerts, %d deliveries; want 1 and 2", alertsOfA(), len(ds))
	}
	deliveries := f.count(t, `SELECT count(*) FROM alert_deliveries WHERE shop_id = $1`)

	// Back up, and down again, twice.
	for range 2 {
		f.shop.Release(t, h.ID)
		h = f.reserve(t, "A", "", 8) // 2 left
		if ds := f.check(t, a); len(ds) != 0 {
			t.Errorf("a crossing within the interval asked for %d deliveries, want none", len(ds))
		}
	}
	if n := alertsOfA(); n != 1 {
		t.Errorf("%d alerts after crossing again within the interval, want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM alert_deliveries WHERE shop_id = $1`); n != deliveries {
		t.Errorf("%d deliveries after crossing again within the interval, want %d", n, deliveries)
	}
	if s, w := len(slack.requests()), len(webhook.requests()); s+w != 0 {
		t.Errorf("%d requests sent, want none: nothing was delivered yet", s+w)
	}

	// The interval has passed.
	if _, err := f.pool.Exec(context.Background(),
		`UPDATE stock_lines SET low_stock_alerted_at = now() - interval '1 hour 1 second' WHERE shop_id = $1 AND sku = 'A'`, f.shopID); err != nil {
		t.Fatal(err)
	}
	f.reserve(t, "A", "", 1) // 1 left
	ds := f.check(t, a)
	if len(ds) != 2 || alertsOfA() != 2 {
		t.Fatalf("crossing after the interval: %d alerts, %d deliveries; want 2 and 2 more", alertsOfA(), len(ds))
	}
	for _, d := range ds {
		if err := a.Deliver(context.Background(), f.pool, d, false); err != nil {
			t.Fatal(err)
		}
	}
	var p alerts.Payload
	if got := webhook.accepted(); len(got) != 1 || json.Unmarshal(got[0].Body, &p) != nil || deref(p.Available) != 1 {
		t.Errorf("webhook got %d alerts (%+v), want 1 with 1 available", len(got), p)
	}
}

// Without channels an alert is still recorded, for the list, and sent
// nowhere.
func TestLowStockAlertWithoutChannels(t *testing.T) {
	f := newFixture(t)
	a := f.alerter(alerts.Channels{})
	f.stock(t, "A", "", 3)
	f.reserve(t, "A", "", 3) // 0 left
	if ds := f.check(t, a); len(ds) != 0 {
		t.Errorf("%d deliveries without channels, want none", len(ds))
	}
	if n := f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1 AND available = 0 AND threshold = 5`); n != 1 {
		t.Errorf("%d alerts, want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM alert_deliveries WHERE shop_id = $1`); n != 0 {
		t.Errorf("%d deliveries, want none", n)
	}
}

// Checkers running side by side, as on several workers, raise one alert
// per line, with one delivery per channel.
func TestCheckStockConcurrent(t *testing.T) {
	f := newFixture(t)
	slack, webhook := newReceiver(t), newReceiver(t)
	const lines = 60
	var changes []inventory.StockChange
	for i := range lines {
		changes = append(changes, inventory.StockChange{SKU: fmt.Sprintf("L%02d", i), Op: inventory.OpSet, Quantity: 10})
	}
	ctx := context.Background()
	if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: changes}); err != nil {
		t.Fatal(err)
	}
	for i := range changes {
		changes[i].Op, changes[i].Quantity, changes[i].Type = inventory.OpDecrement, 6, inventory.MovementDamage
	}
	if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: changes}); err != nil {
		t.Fatal(err)
	}

	var (
		mu  sync.Mutex
		ds  []alerts.Delivery
		wg  sync.WaitGroup
		err = make(chan error, 4)
	)
	for range 4 {
		a := f.alerter(channels(slack, webhook))
		wg.Go(func() {
			for {
				var res alerts.CheckResult
				e := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
					var e error
					res, e = a.CheckStock(ctx, tx, 7)
					return e
				})
				if e != nil {
					err <- e
					return
				}
				mu.Lock()
				ds = append(ds, res.Deliveries...)
				mu.Unlock()
				if res.Checked == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(err)
	for e := range err {
		t.Fatal(e)
	}
	f.check(t, f.alerter(channels(slack, webhook))) // whatever was locked when a checker looked
	if n := f.count(t, `SELECT count(*) FROM (SELECT sku FROM alerts WHERE shop_id = $1 GROUP BY sku HAVING count(*) = 1) s`); n != lines {
		t.Errorf("%d lines with exactly one alert, want %d", n, lines)
	}
	if n := f.count(t, `SELECT count(*) FROM alert_deliveries WHERE shop_id = $1`); n != 2*lines {
		t.Errorf("%d deliveries, want %d", n, 2*lines)
	}
	seen := map[alerts.Delivery]bool{}
	for _, d := range ds {
		if seen[d] {
			t.Errorf("delivery %+v asked for twice", d)
		}
		seen[d] = true
	}
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
