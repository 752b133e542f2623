package webhooks_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
	"github.com/checkoutd/checkoutd/webhooks"
)

// A failure after an event's effect and before its commit (a crash, a lost
// connection) leaves no trace: the event is not in the inbox, the stock and
// the checkout are as they were, Stripe is answered 5xx and retries, and
// the retry applies the event exactly once.
func TestFailureBeforeCommitLeavesNoTrace(t *testing.T) {
	t.Parallel()
	injected := errors.New("injected failure before commit")
	for _, tc := range []struct {
		name          string
		typ           stripe.EventType
		paymentStatus string
		// prepare runs before the failing delivery.
		prepare func(t *testing.T, f *fixture, s *checkout.Session)
		want    checkout.Outcome
	}{
		{name: "completed/paid", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid", want: checkout.Committed},
		{name: "completed/unpaid", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "unpaid", want: checkout.AwaitingPayment},
		{name: "expired", typ: stripe.EventTypeCheckoutSessionExpired, paymentStatus: "unpaid", want: checkout.Released},
		{name: "async_payment_failed", typ: stripe.EventTypeCheckoutSessionAsyncPaymentFailed, paymentStatus: "unpaid", want: checkout.Released},
		{name: "paid after release", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid", want: checkout.Committed,
			prepare: func(t *testing.T, f *fixture, s *checkout.Session) {
				if _, err := f.ledger.Release(context.Background(), f.shopID, *s.ReservationID, "test"); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "paid after lapse, stock gone", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid", want: checkout.Oversold,
			prepare: func(t *testing.T, f *fixture, s *checkout.Session) {
				inventorytest.MakeSessionsDue(t, f.pool, f.shopID, *s.ReservationID)
				f.shop.Stock(t, "A", 1)
			}},
		{name: "ignored", typ: "payment_intent.created", paymentStatus: "paid", want: checkout.Ignored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkoutd.ModeReserveTTL)
			s := f.checkout(t, 2)
			if tc.prepare != nil {
				tc.prepare(t, f, s)
			}
			// Unique: an ignored event is recorded under shop ''.
			e := f.event("evt_fault_"+f.shopID, tc.typ, s, tc.paymentStatus)
			payload := e.payload()
			before := f.snapshot(t)

			var calls int
			webhooks.SetBeforeCommit(f.processor, func() error { calls++; return injected })
			for range 2 {
				out, err := f.send(payload)
				if !errors.Is(err, injected) {
					t.Fatalf("delivery with a failing commit: outcome %q, error %v; want the injected error", out, err)
				}
			}
			if calls != 2 {
				t.Errorf("hook ran %d times, want 2: it must run after the effect", calls)
			}
			f.assertUnchanged(t, before)
			if n := countEvent(t, f, e.ID); n != 0 {
				t.Errorf("the failed event is in the inbox (%d rows)", n)
			}

			// Over HTTP the failure is a 500: Stripe retries.
			rec := postWebhook(t, f, payload)
			if rec.Code != http.StatusInternalServerError || !bytes.Contains(rec.Body.Bytes(), []byte(`"internal_error"`)) {
				t.Errorf("HTTP: %d %s, want 500 internal_error", rec.Code, rec.Body)
			}
			f.assertUnchanged(t, before)

			// The retry, once the failure is gone, applies it once.
			webhooks.SetBeforeCommit(f.processor, nil)
			if out := f.sendEvent(t, e); out != tc.want {
				t.Fatalf("retry: %s, want %s", out, tc.want)
			}
			if out := f.sendEvent(t, e); out != webhooks.Duplicate {
				t.Errorf("second retry: %s, want duplicate", out)
			}
			if n := countEvent(t, f, e.ID); n != 1 {
				t.Errorf("the event has %d inbox rows, want 1", n)
			}
			switch tc.want {
			case checkout.Committed:
				c := f.checkoutOf(t, s)
				if c.Status != "completed" || c.HoldID == nil {
					t.Fatalf("checkout %+v, want completed", c)
				}
				if got := f.sales(t); len(got) != 1 || got[*c.HoldID] != [2]int64{1, 2} {
					t.Errorf("SALE movements (count, units) by hold %v, want one taking 2", got)
				}
				if onHand, reserved := f.stock(t); onHand != 3 || reserved != 0 {
					t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
				}
			case checkout.Oversold:
				if p, err := checkout.ListOversold(context.Background(), f.pool, f.shopID, 0, ""); err != nil || len(p.Items) != 1 {
					t.Errorf("oversold orders %+v (%v), want 1", p, err)
				}
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}

// countEvent counts the inbox rows of an event id, under any shop: the
// inbox is this package's table, read here as stored.
func countEvent(t *testing.T, f *fixture, id string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM stripe_events WHERE id = $1", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// postWebhook posts a signed payload to the webhook route, served by the
// fixture's processor.
func postWebhook(t *testing.T, f *fixture, payload []byte) *httptest.ResponseRecorder {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	api := httpapi.New(f.ledger, apikey.NewStore(f.pool), httpapi.Config{}, log)
	r := mux.NewRouter()
	api.MountWebhooks(r, f.verifier, f.processor)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(payload))
	req.Header.Set("Stripe-Signature", sign(payload, secret, time.Time{}))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

// The database connection is lost just before an event's commit (the
// server restarts, a failover): nothing is applied, the error says the
// database is unavailable (HTTP 503, Stripe retries), and the retry applies
// the event once.
func TestConnectionLostBeforeCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	s := f.checkout(t, 2)
	app := "checkoutd-test-lost-" + f.shopID[len(f.shopID)-12:]
	pool, err := database.Open(ctx, testdb.URL(t), database.PoolConfig{MaxConns: 2, ApplicationName: app})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	p := webhooks.NewProcessor(pool, checkout.NewSettler(inventory.NewLedger(pool, inventory.Config{Logger: slog.New(slog.DiscardHandler)}), checkout.SettleConfig{}),
		webhooks.Config{Logger: slog.New(slog.DiscardHandler)})
	webhooks.SetBeforeCommit(p, func() error {
		var n int
		err := f.pool.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n)
		if err != nil || n == 0 {
			t.Errorf("terminate the processor's connections: %d, %v", n, err)
		}
		return nil
	})
	e := f.event("evt_lost_"+f.shopID, stripe.EventTypeCheckoutSessionCompleted, s, "paid")
	ev, err := f.verifier.Verify(e.payload(), sign(e.payload(), secret, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	before := f.snapshot(t)
	out, err := p.Process(ctx, ev)
	if err == nil {
		t.Fatalf("processed with the connection gone: %s", out)
	}
	if !errors.Is(err, inventory.ErrUnavailable) {
		t.Errorf("error %v; want one wrapping inventory.ErrUnavailable (503)", err)
	}
	f.assertUnchanged(t, before)
	if n := countEvent(t, f, e.ID); n != 0 {
		t.Errorf("the lost event is in the inbox (%d rows)", n)
	}

	webhooks.SetBeforeCommit(p, nil)
	if out, err := p.Process(ctx, ev); err != nil || out != checkout.Committed {
		t.Fatalf("retry: %s, %v; want committed", out, err)
	}
	assertSold(t, f, s, "pi_"+e.ID, 2)
	f.shop.RequireLedgerClean(t)
}
