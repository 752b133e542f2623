package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/checkout/session"
	"github.com/stripe/stripe-go/v79/form"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/webhooks"
)

// The endpoint secrets during a rotation: send-event signs with the first.
const (
	sendEventSecret    = "whsec_send_event_first"
	sendEventOldSecret = "whsec_send_event_second"
)

// deliveredEvent is an event a receiver verified.
type deliveredEvent struct {
	method, path, contentType string
	event                     stripe.Event
	session                   map[string]any
}

// eventReceiver serves a webhook endpoint that verifies every delivery with
// sendEventSecret, as checkoutd does but strictly (the API version must be
// stripe-go's), and answers status and body.
func eventReceiver(t *testing.T, status int, body string) (*httptest.Server, func() []deliveredEvent) {
	t.Helper()
	var mu sync.Mutex
	var got []deliveredEvent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read delivery: %v", err)
		}
		ev, err := webhook.ConstructEventWithOptions(payload, r.Header.Get("Stripe-Signature"), sendEventSecret, webhook.ConstructEventOptions{})
		if err != nil {
			t.Errorf("the delivery does not verify: %v\n%s", err, payload)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var session map[string]any
		if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &session) != nil {
			t.Errorf("the event has no data.object: %s", payload)
		}
		mu.Lock()
		got = append(got, deliveredEvent{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"), event: ev, session: session})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []deliveredEvent {
		mu.Lock()
		defer mu.Unlock()
		return append([]deliveredEvent(nil), got...)
	}
}

// checkDelivery fails the test unless the only delivery is a well-formed
// event of type typ about session, with the session fields given.
func checkDelivery(t *testing.T, got []deliveredEvent, typ stripe.EventType, session map[string]any) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	d := got[0]
	if d.method != http.MethodPost || d.path != "/webhooks/stripe" || !strings.HasPrefix(d.contentType, "application/json") {
		t.Errorf("delivered with %s %s, Content-Type %q", d.method, d.path, d.contentType)
	}
	ev := d.event
	if !strings.HasPrefix(ev.ID, "evt_") || len(ev.ID) < 20 || ev.Object != "event" || ev.Type != typ ||
		ev.APIVersion != stripe.APIVersion || ev.Livemode || time.Since(time.Unix(ev.Created, 0)).Abs() > time.Minute {
		t.Errorf("event %s %s %s api_version %s created %d livemode %v", ev.ID, ev.Object, ev.Type, ev.APIVersion, ev.Created, ev.Livemode)
	}
	pi, _ := d.session["payment_intent"].(string)
	if want, ok := session["payment_intent"]; ok && want == nil {
		if d.session["payment_intent"] != nil {
			t.Errorf("payment_intent %v, want null", d.session["payment_intent"])
		}
	} else if !strings.HasPrefix(pi, "pi_") {
		t.Errorf("payment_intent %v, want pi_...", d.session["payment_intent"])
	}
	for k, want := range session {
		if k == "payment_intent" {
			continue
		}
		if got := d.session[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("session %s = %v, want %v", k, got, want)
		}
	}
	if d.session["object"] != "checkout.session" {
		t.Errorf("data.object is a %v", d.session["object"])
	}
}

func TestStripeSendEventCarriesTheCheckoutsMetadata(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Pool(t)
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: slog.New(slog.DiscardHandler)})
	shop := testdb.ShopID(t)
	if _, err := ledger.CreateShop(ctx, shop, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Adjust(ctx, shop, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpSet, Quantity: 5}}}); err != nil {
		t.Fatal(err)
	}
	sessions := &sendEventSessions{}
	log := slog.New(slog.DiscardHandler)
	svc := checkout.NewService(pool, ledger, sessions, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: time.Hour, Logger: log})
	amount := int64(500)
	sess, _, err := svc.Create(ctx, checkout.Request{
		ShopID: shop, Mode: "rental",
		Items:      []checkout.Item{{SKU: "A", Quantity: 1, Name: "A", UnitAmount: &amount, Currency: "eur"}},
		SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
	})
	if err != nil {
		t.Fatal(err)
	}
	session := sess.ID
	given := sessions.metadata
	if given["inventory_reservation_id"] != *sess.ReservationID || given["checkout_mode"] != "rental" || given["shop_id"] != shop || given["checkout_id"] == "" {
		t.Fatalf("the session was created with metadata %v", given)
	}
	setEnv(t, map[string]string{"DATABASE_URL": testdb.URL(t), "STRIPE_WEBHOOK_SECRET": sendEventSecret + ", " + sendEventOldSecret})
	srv, deliveries := eventReceiver(t, http.StatusOK, `{"received":true,"outcome":"committed"}`)

	code, stdout, stderr := runCommand(ctx, "stripe", "send-event", "--type", "checkout.session.completed", "--session", session, "--url", srv.URL+"/webhooks/stripe")
	if code != 0 || !strings.Contains(stdout, "200 OK") || !strings.Contains(stdout, `{"received":true,"outcome":"committed"}`) || strings.Contains(stderr, "warning") {
		t.Errorf("send-event = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	checkDelivery(t, deliveries(), stripe.EventTypeCheckoutSessionCompleted, map[string]any{
		"id": session, "status": "complete", "payment_status": "paid",
		"metadata": map[string]any{"shop_id": shop, "checkout_id": given["checkout_id"], "checkout_mode": "rental", "inventory_reservation_id": given["inventory_reservation_id"]},
	})

	// --shop narrows the search: another shop has no such checkout. The
	// endpoint acknowledges the event but ignores it, which fails the
	// command, saying why.
	srv, deliveries = eventReceiver(t, http.StatusOK, `{"received":true,"outcome":"ignored","reason":"no checkout of that shop has it"}`)
	other := testdb.ShopID(t)
	code, stdout, stderr = runCommand(ctx, "stripe", "send-event", "--type", "checkout.session.expired", "--session", session,
		"--shop", other, "--url", srv.URL+"/webhooks/stripe")
	if code != 1 || !strings.Contains(stderr, "warning: no checkout of shop "+other+" has session "+session) ||
		!strings.Contains(stdout, "200 OK") || !strings.Contains(stderr, "was ignored: no checkout of that shop has it") {
		t.Errorf("send-event for another shop = %d\nstdout: %s\nstderr: %s\nwant 1, the answer and why it was ignored", code, stdout, stderr)
	}
	checkDelivery(t, deliveries(), stripe.EventTypeCheckoutSessionExpired, map[string]any{
		"id": session, "status": "expired", "payment_status": "unpaid", "payment_intent": nil,
		"metadata": map[string]any{"shop_id": other},
	})
}

func TestStripeSendEventWithoutACheckout(t *testing.T) {
	ctx := context.Background()
	srv, deliveries := eventReceiver(t, http.StatusOK, `{"received":true}`)

	// No database to look in: the flags are all there is.
	setEnv(t, map[string]string{"STRIPE_WEBHOOK_SECRET": sendEventSecret})
	code, stdout, stderr := runCommand(ctx, "stripe", "send-event", "--type", "checkout.session.async_payment_failed",
		"--session", "cs_test_nowhere", "--url", srv.URL+"/webhooks/stripe")
	if code != 0 || !strings.Contains(stderr, "warning: DATABASE_URL is not set") || !strings.Contains(stdout, "200 OK") {
		t.Errorf("send-event without DATABASE_URL = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	checkDelivery(t, deliveries(), stripe.EventTypeCheckoutSessionAsyncPaymentFailed, map[string]any{
		"id": "cs_test_nowhere", "status": "complete", "payment_status": "unpaid", "metadata": map[string]any{},
	})

	// A database without the session, and a payment status from the flag.
	srv, deliveries = eventReceiver(t, http.StatusOK, `{"received":true}`)
	setEnv(t, map[string]string{"DATABASE_URL": testdb.URL(t), "STRIPE_WEBHOOK_SECRET": sendEventSecret})
	code, stdout, stderr = runCommand(ctx, "stripe", "send-event", "--type", "checkout.session.completed", "--payment-status", "unpaid",
		"--session", "cs_test_unknown", "--shop", "s1", "--url", srv.URL+"/webhooks/stripe")
	if code != 0 || !strings.Contains(stderr, "warning: no checkout of shop s1 has session cs_test_unknown") {
		t.Errorf("send-event for an unknown session = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	checkDelivery(t, deliveries(), stripe.EventTypeCheckoutSessionCompleted, map[string]any{
		"id": "cs_test_unknown", "status": "complete", "payment_status": "unpaid", "metadata": map[string]any{"shop_id": "s1"},
	})
}

func TestStripeSendEventFailsOnARefusal(t *testing.T) {
	setEnv(t, map[string]string{"STRIPE_WEBHOOK_SECRET": sendEventSecret})
	srv, _ := eventReceiver(t, http.StatusBadRequest, `{"error":"invalid_signature","message":"no"}`)
	code, stdout, stderr := runCommand(context.Background(), "stripe", "send-event", "--type", "checkout.session.completed",
		"--session", "cs_test_x", "--url", srv.URL+"/webhooks/stripe")
	if code != 1 || !strings.Contains(stdout, "400 Bad Request") || !strings.Contains(stdout, `"error":"invalid_signature"`) || !strings.Contains(stderr, "was refused") {
		t.Errorf("send-event answered 400 = %d\nstdout: %s\nstderr: %s\nwant 1 with the status and body", code, stdout, stderr)
	}

	// Nothing listening is a failure too.
	code, _, stderr = runCommand(context.Background(), "stripe", "send-event", "--type", "checkout.session.completed",
		"--session", "cs_test_x", "--url", "http://"+freeAddr(t)+"/webhooks/stripe")
	if code != 1 || !strings.Contains(stderr, "send event evt_") {
		t.Errorf("send-event to nothing = %d, stderr: %s", code, stderr)
	}
}

// TestStripeSendEventDrivesTheWebhook sends an event for a checkout made by
// the checkout service to checkoutd's own webhook route: the metadata looked
// up must be what the processor accepts.
func TestStripeSendEventDrivesTheWebhook(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Pool(t)
	log := slog.New(slog.DiscardHandler)
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: log})
	shop := testdb.ShopID(t)
	if _, err := ledger.CreateShop(ctx, shop, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Adjust(ctx, shop, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpSet, Quantity: 5}}}); err != nil {
		t.Fatal(err)
	}
	amount := int64(1000)
	svc := checkout.NewService(pool, ledger, &sendEventSessions{}, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 20 * time.Minute, Logger: log})
	sess, _, err := svc.Create(ctx, checkout.Request{
		ShopID: shop, Mode: "sale",
		Items:      []checkout.Item{{SKU: "A", Quantity: 2, Name: "A", UnitAmount: &amount, Currency: "eur"}},
		SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
	})
	if err != nil {
		t.Fatal(err)
	}

	r := mux.NewRouter()
	httpapi.New(ledger, apikey.NewStore(pool), httpapi.Config{}, log).MountWebhooks(r,
		webhooks.NewVerifier(sendEventOldSecret+","+sendEventSecret, webhooks.DefaultTolerance),
		webhooks.NewProcessor(pool, checkout.NewSettler(ledger, checkout.SettleConfig{}), webhooks.Config{Logger: log}))
	srv := httptest.NewServer(r)
	defer srv.Close()

	setEnv(t, map[string]string{"DATABASE_URL": testdb.URL(t), "STRIPE_WEBHOOK_SECRET": sendEventSecret})
	code, stdout, stderr := runCommand(ctx, "stripe", "send-event", "--type", "checkout.session.completed", "--session", sess.ID,
		"--url", srv.URL+"/webhooks/stripe")
	if code != 0 || !strings.Contains(stdout, `"outcome":"committed"`) {
		t.Fatalf("send-event to checkoutd = %d\nstdout: %s\nstderr: %s\nwant the hold committed", code, stdout, stderr)
	}
	info, err := ledger.StockInfo(ctx, shop, "A", "")
	if err != nil || info.OnHand != 3 || info.Reserved != 0 {
		t.Errorf("after the paid event: %+v, %v; want 3 on hand, 0 reserved", info, err)
	}

	// A mistyped session id: checkoutd acknowledges the event with 200, as
	// Stripe needs, and says why it ignored it; send-event fails with that.
	typo := sess.ID + "x"
	for _, tt := range []struct {
		args   []string
		reason string
	}{
		{[]string{"--shop", shop}, "no checkout of shop " + shop + " has session " + typo},
		{nil, "the session's metadata has no valid shop_id"},
	} {
		args := append([]string{"stripe", "send-event", "--type", "checkout.session.expired", "--session", typo,
			"--url", srv.URL + "/webhooks/stripe"}, tt.args...)
		code, stdout, stderr = runCommand(ctx, args...)
		if code != 1 || !strings.Contains(stdout, "200 OK") || !strings.Contains(stdout, `"outcome":"ignored"`) ||
			!strings.Contains(stderr, "was ignored: "+tt.reason) {
			t.Errorf("send-event %v = %d\nstdout: %s\nstderr: %s\nwant 1 and %q", tt.args, code, stdout, stderr, tt.reason)
		}
	}
}

// sendEventSessions hands out Stripe session ids and keeps the metadata the
// last one was created with.
type sendEventSessions struct {
	n        int
	metadata map[string]string
}

func (f *sendEventSessions) New(p *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	f.n++
	f.metadata = p.Metadata
	id := fmt.Sprintf("cs_test_send_%d_%d", time.Now().UnixNano(), f.n)
	return &stripe.CheckoutSession{ID: id, URL: "https://checkout.stripe.com/pay/" + id, ExpiresAt: *p.ExpiresAt}, nil
}
func (f *sendEventSessions) Get(string, *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	return nil, fmt.Errorf("not faked")
}
func (f *sendEventSessions) Expire(string, *stripe.CheckoutSessionExpireParams) (*stripe.CheckoutSession, error) {
	return nil, fmt.Errorf("not faked")
}
func (f *sendEventSessions) ListLineItems(p *stripe.CheckoutSessionListLineItemsParams) *session.LineItemIter {
	return &session.LineItemIter{Iter: stripe.GetIter(p, func(*stripe.Params, *form.Values) ([]interface{}, stripe.ListContainer, error) {
		return nil, nil, fmt.Errorf("not faked")
	})}
}

func TestStripeSendEventCommandLine(t *testing.T) {
	ctx := context.Background()
	const ok = "cs_test_a"
	send := func(extra ...string) []string {
		return append([]string{"stripe", "send-event", "--type", "checkout.session.completed", "--session", ok}, extra...)
	}
	for _, tt := range []struct {
		name   string
		env    map[string]string
		args   []string
		stderr string
	}{
		{"no command", nil, []string{"stripe"}, "checkoutd stripe: missing command"},
		{"unknown command", nil, []string{"stripe", "resend"}, `checkoutd stripe: unknown command "resend"`},
		{"no type", nil, []string{"stripe", "send-event", "--session", ok}, "missing --type"},
		{"unknown type", nil, []string{"stripe", "send-event", "--type", "payment_intent.succeeded", "--session", ok}, `--type "payment_intent.succeeded" is not one of checkout.session.async_payment_failed, `},
		{"no session", nil, []string{"stripe", "send-event", "--type", "checkout.session.expired"}, "missing --session"},
		{"not a session", nil, []string{"stripe", "send-event", "--type", "checkout.session.expired", "--session", "pi_123"}, `--session "pi_123" is not a Checkout Session id`},
		{"payment status", nil, send("--payment-status", "refunded"), "--payment-status must be one of paid, unpaid, no_payment_required"},
		{"shop", nil, send("--shop", "Not/A/Shop"), "--shop must be a shop id"},
		{"not a URL", nil, send("--url", "ftp://127.0.0.1/x"), `--url "ftp://127.0.0.1/x" is not an http(s) URL`},
		{"remote URL", nil, send("--url", "https://example.com/webhooks/stripe"), "is not on this machine; pass --allow-remote"},
		{"unspecified address", nil, send("--url", "http://0.0.0.0:8080/webhooks/stripe"), "pass --allow-remote"},
		{"extra argument", nil, send("now"), `unexpected argument "now"`},
		{"no secret", nil, send(), "STRIPE_WEBHOOK_SECRET is not set"},
		{"help", nil, []string{"stripe", "send-event", "-h"}, "-allow-remote"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			want := 2
			if tt.name == "help" {
				want = 0
			}
			code, _, stderr := runCommand(ctx, tt.args...)
			if code != want || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("checkoutd %s = %d\nstderr: %s\nwant %d and %q", strings.Join(tt.args, " "), code, stderr, want, tt.stderr)
			}
		})
	}

	// The loopback rule holds for every spelling of this machine, and
	// --allow-remote lifts it. 0.0.0.0 reaches this machine on Linux.
	srv, deliveries := eventReceiver(t, http.StatusOK, `{}`)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	setEnv(t, map[string]string{"STRIPE_WEBHOOK_SECRET": sendEventSecret})
	for _, host := range []string{"localhost", "[::1]", "127.0.0.1"} {
		code, _, stderr := runCommand(ctx, send("--url", "http://"+host+":"+port+"/webhooks/stripe")...)
		if host == "[::1]" && code == 1 && strings.Contains(stderr, "send event") {
			continue // the receiver listens on IPv4 only; the URL was accepted
		}
		if code != 0 {
			t.Errorf("send-event to %s = %d, stderr: %s", host, code, stderr)
		}
	}
	if runtime.GOOS == "linux" {
		if code, _, stderr := runCommand(ctx, send("--allow-remote", "--url", "http://0.0.0.0:"+port+"/webhooks/stripe")...); code != 0 {
			t.Errorf("send-event --allow-remote = %d, stderr: %s", code, stderr)
		}
	}
	if len(deliveries()) < 2 {
		t.Errorf("%d deliveries, want at least 2", len(deliveries()))
	}
}
