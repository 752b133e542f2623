package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/internal/testkit"
)

// alertsEnv serves the API with the alerts route mounted, as
// cmd/checkoutd's serve does, for the length of the test; the shared

// The list shows each alert with where its deliveries stand: one made, one
// failing and retried.
func TestListAlerts(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	ctx := context.Background()

	// A low-stock alert from earlier, delivered to Slack.
	base := time.Date(2026, 2, 3, 4, 5, 6, 789000000, time.UTC)
	_, err := h.pool.Exec(ctx, `INSERT INTO alerts (shop_id, id, kind, sku, variant_key, available, threshold, message, created_at)
		VALUES ($1, 'alr_low', 'low_stock', 'SKU-1', 'size:M', 3, 10, 'Low stock', $2)`, shop, base)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.pool.Exec(ctx, `INSERT INTO alert_deliveries (shop_id, alert_id, channel, status, attempts, delivered_at)
		VALUES ($1, 'alr_low', 'slack', 'delivered', 1, $2)`, shop, base.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}

	// An oversold alert now, whose webhook answered 500 once.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }))
	t.Cleanup(receiver.Close)
	alerter := alerts.New(h.ledger, alerts.Config{Logger: serverLogger(), Channels: alerts.Channels{WebhookURL: receiver.URL, WebhookSecret: "s"}})
	var raised *alerts.Raised
	err = pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error {
		var err error
		raised, err = alerter.RaiseOversold(ctx, tx, shop, "ovs_1", "chk_1")
		return err
	})
	if err != nil || raised == nil {
		t.Fatalf("raise oversold alert: %v", err)
	}
	if err := alerter.Deliver(ctx, h.pool, raised.Deliveries[0], false); err == nil {
		t.Fatal("delivery to a receiver answering 500 succeeded")
	}

	path := shopPath(shop, "/alerts")
	r := h.svc(t, http.MethodGet, path+"?limit=1", nil)
	expect(t, r, http.StatusOK, "")
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	page := r.Obj(t)
	assertKeys(t, page, "items", "nextCursor")
	items := objs(t, page, "items")
	if len(items) != 1 {
		t.Fatalf("first page has %d items, want 1: %s", len(items), r.Raw)
	}
	newest := items[0]
	assertKeys(t, newest, "id", "kind", "sku", "variantKey", "available", "threshold", "oversoldId", "message", "createdAt", "held", "digestId", "deliveries")
	if str(t, newest, "id") != raised.AlertID || str(t, newest, "kind") != "oversold" || str(t, newest, "oversoldId") != "ovs_1" ||
		newest["sku"] != nil || newest["available"] != nil || !strings.Contains(str(t, newest, "message"), "chk_1") {
		t.Errorf("oversold alert %v", newest)
	}
	timeField(t, newest, "createdAt")
	want := []any{map[string]any{
		"channel": "webhook", "status": "pending", "attempts": 1,
		"lastError": "http_500", "deliveredAt": nil,
	}}
	if got := newest["deliveries"]; !jsonEqual(got, jsonOf(t, want)) {
		t.Errorf("deliveries\n got  %v\n want %v", got, want)
	}

	r = h.svc(t, http.MethodGet, path+"?limit=1&cursor="+url.QueryEscape(str(t, page, "nextCursor")), nil)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{"nextCursor": nil, "items": []any{map[string]any{
		"id": "alr_low", "kind": "low_stock", "sku": "SKU-1", "variantKey": "size:M", "available": 3, "threshold": 10,
		"oversoldId": nil, "message": "Low stock", "createdAt": "2026-02-03T04:05:06Z", "held": false, "digestId": nil,
		"deliveries": []any{map[string]any{
			"channel": "slack", "status": "delivered", "attempts": 1, "lastError": nil, "deliveredAt": "2026-02-03T04:05:07Z",
		}},
	}}})

	// A shop's own key reads its alerts; another shop's is answered as if
	// the shop did not exist.
	token, _ := h.shopKey(t, shop)
	r = h.do(t, req{Method: http.MethodGet, Path: path, Token: token})
	expect(t, r, http.StatusOK, "")
	if n := len(objs(t, r.Obj(t), "items")); n != 2 {
		t.Errorf("shop key: %d items, want 2", n)
	}
	other := h.newShop(t)
	otherToken, _ := h.shopKey(t, other)
	expect(t, h.do(t, req{Method: http.MethodGet, Path: path, Token: otherToken}), http.StatusNotFound, "not_found")

	// The other shop has none.
	r = h.svc(t, http.MethodGet, shopPath(other, "/alerts"), nil)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{"items": []any{}, "nextCursor": nil})
}

// A failed delivery shows the shop only the class of the failure: never the
// receiver's URL or address, the resolver that failed it, or a word of the
// receiver's answer. The detail goes to the log, with the alert, shop and
// channel.
func TestAlertErrorsShowOnlyTheClass(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	ctx := context.Background()
	const secret = "sk_live_ops-only-3f9a"

	// A port nothing listens on: connections are refused.
	closed := httptest.NewServer(http.NotFoundHandler())
	refusedURL := closed.URL + "/hooks/refused"
	closed.Close()
	// A receiver answering 500 with a body that must stay with ops.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "upstream db at 10.1.2.3 failed, token="+secret)
	}))
	t.Cleanup(failing.Close)
	// A host whose lookup fails at a resolver of our choosing.
	deadResolver := httptest.NewServer(http.NotFoundHandler())
	resolverAddr := deadResolver.Listener.Addr().String()
	deadResolver.Close()
	dialer := &net.Dialer{Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", resolverAddr)
	}}}
	dnsClient := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}

	cases := []struct {
		name, class string
		channels    alerts.Channels
	}{
		{"refused", "refused", alerts.Channels{SlackWebhookURL: refusedURL}},
		{"http 500", "http_500", alerts.Channels{WebhookURL: failing.URL + "/hooks/failing", WebhookSecret: "s"}},
		{"dns", "dns", alerts.Channels{SlackWebhookURL: "http://alerts.receiver.example/hooks/dns", HTTPClient: dnsClient}},
	}
	logs := &testkit.SyncBuffer{}
	want := map[string]string{}
	for i, c := range cases {
		alerter := alerts.New(h.ledger, alerts.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Channels: c.channels})
		var raised *alerts.Raised
		err := pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error {
			var err error
			raised, err = alerter.RaiseOversold(ctx, tx, shop, fmt.Sprintf("ovs_%d", i), "chk_1")
			return err
		})
		if err != nil || raised == nil || len(raised.Deliveries) != 1 {
			t.Fatalf("%s: raise oversold alert: %v", c.name, err)
		}
		if err := alerter.Deliver(ctx, h.pool, raised.Deliveries[0], false); err == nil {
			t.Fatalf("%s: delivery succeeded", c.name)
		}
		want[raised.AlertID] = c.class
	}

	r := h.svc(t, http.MethodGet, shopPath(shop, "/alerts"), nil)
	expect(t, r, http.StatusOK, "")
	for _, item := range objs(t, r.Obj(t), "items") {
		ds := objs(t, item, "deliveries")
		if len(ds) != 1 {
			t.Fatalf("alert %v: %d deliveries, want 1", item["id"], len(ds))
		}
		if got, class := ds[0]["lastError"], want[str(t, item, "id")]; got != class {
			t.Errorf("alert %v: lastError %q, want %q", item["id"], got, class)
		}
	}
	var leaks []string
	for _, leak := range []string{secret, "10.1.2.3", "upstream", "/hooks/", "alerts.receiver.example", "127.0.0.1", "lookup", "dial"} {
		if strings.Contains(string(r.Raw), leak) {
			leaks = append(leaks, leak)
		}
	}
	if len(leaks) > 0 {
		t.Errorf("the alerts list shows %q: %s", leaks, r.Raw)
	}
	// Ops still read what happened, with the alert, shop and channel.
	for id, class := range want {
		line := logs.LineWith(id)
		for _, part := range []string{`"shop_id":"` + shop + `"`, `"channel":`, `"error_class":"` + class + `"`} {
			if !strings.Contains(line, part) {
				t.Errorf("log of alert %s %q lacks %s", id, line, part)
			}
		}
	}
	if !strings.Contains(logs.String(), secret) || !strings.Contains(logs.String(), resolverAddr) {
		t.Errorf("the log lacks the details: %s", logs.String())
	}
}
