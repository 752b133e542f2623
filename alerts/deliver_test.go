package alerts_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/alerts"
)

// A receiver that answers 500 twice and then 200 gets the alert exactly
// once; the delivery ends delivered after 3 attempts, and a fourth run of
// the job sends nothing.
func TestDeliverRetriedUntilDelivered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	slack, webhook := newReceiver(t), newReceiver(t, 500, 500)
	a := f.alerter(channels(slack, webhook))
	raised := f.raiseOversold(t, a, "ovs_retry")
	d := alerts.Delivery{ShopID: f.shopID, AlertID: raised.AlertID, Channel: alerts.ChannelWebhook}
	ctx := context.Background()

	for attempt := 1; attempt <= 2; attempt++ {
		err := a.Deliver(ctx, f.pool, d, false)
		var derr *alerts.DeliveryError
		if !errors.As(err, &derr) || derr.Class != "http_500" || !strings.Contains(derr.Err.Error(), "HTTP 500: Internal Server Error") {
			t.Fatalf("attempt %d: %v, want a DeliveryError of class http_500 with the answer in its detail", attempt, err)
		}
		st := f.delivery(t, d)
		if st.Status != alerts.StatusPending || st.Attempts != attempt || st.LastError == nil || *st.LastError != "http_500" {
			t.Errorf("after attempt %d: %+v, want pending with the error's class", attempt, st)
		}
	}
	if err := a.Deliver(ctx, f.pool, d, false); err != nil {
		t.Fatalf("attempt 3: %v", err)
	}
	if err := a.Deliver(ctx, f.pool, d, false); err != nil {
		t.Fatalf("attempt 4: %v", err)
	}
	if st := f.delivery(t, d); st.Status != alerts.StatusDelivered || st.Attempts != 3 || st.LastError != nil || !st.Delivered {
		t.Errorf("delivery %+v, want delivered after 3 attempts, no error left", st)
	}
	if got, all := webhook.accepted(), webhook.requests(); len(got) != 1 || len(all) != 3 {
		t.Errorf("receiver took %d alerts in %d requests, want 1 in 3", len(got), len(all))
	}
	// Each attempt is signed afresh, over the same body.
	all := webhook.requests()
	for _, r := range all {
		if err := alerts.VerifySignature(webhookSecret, r.Header.Get(alerts.TimestampHeader), r.Body, r.Header.Get(alerts.SignatureHeader), 0); err != nil {
			t.Errorf("attempt's signature: %v", err)
		}
		if string(r.Body) != string(all[0].Body) {
			t.Errorf("attempts sent different bodies:\n%s\n%s", all[0].Body, r.Body)
		}
	}
}

// The last attempt that fails marks the delivery failed.
func TestDeliverGivesUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	slack, webhook := newReceiver(t, 503, 503), newReceiver(t)
	a := f.alerter(channels(slack, webhook))
	raised := f.raiseOversold(t, a, "ovs_giveup")
	d := alerts.Delivery{ShopID: f.shopID, AlertID: raised.AlertID, Channel: alerts.ChannelSlack}
	ctx := context.Background()
	if err := a.Deliver(ctx, f.pool, d, false); err == nil {
		t.Fatal("first attempt succeeded against a 503")
	}
	if err := a.Deliver(ctx, f.pool, d, true); err == nil || !strings.Contains(err.Error(), "http_503") {
		t.Fatalf("last attempt: %v, want the 503", err)
	}
	if st := f.delivery(t, d); st.Status != alerts.StatusFailed || st.Attempts != 2 || st.LastError == nil || st.Delivered {
		t.Errorf("delivery %+v, want failed after 2 attempts", st)
	}
}

// An oversold order raises one alert however often its job runs, delivered
// to the same channels as low stock.
func TestOversoldAlert(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	slack, webhook := newReceiver(t), newReceiver(t)
	a := f.alerter(channels(slack, webhook))
	raised := f.raiseOversold(t, a, "ovs_1")
	if raised == nil || len(raised.Deliveries) != 2 {
		t.Fatalf("raised %+v, want an alert with 2 deliveries", raised)
	}
	if again := f.raiseOversold(t, a, "ovs_1"); again != nil {
		t.Errorf("raising again gave %+v, want nil", again)
	}
	if n := f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1`); n != 1 {
		t.Errorf("%d alerts, want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM alert_deliveries WHERE shop_id = $1`); n != 2 {
		t.Errorf("%d deliveries, want 2", n)
	}
	for _, d := range raised.Deliveries {
		if err := a.Deliver(context.Background(), f.pool, d, false); err != nil {
			t.Fatal(err)
		}
	}
	got := slack.accepted()
	var s alerts.SlackPayload
	if len(got) != 1 || json.Unmarshal(got[0].Body, &s) != nil ||
		!strings.Contains(s.Text, "Oversold order in shop "+f.shopID+": checkout chk_ovs_1") || !strings.Contains(s.Text, "ovs_1") {
		t.Errorf("slack got %d: %+v", len(got), s)
	}
	got = webhook.accepted()
	var p alerts.Payload
	if len(got) != 1 || json.Unmarshal(got[0].Body, &p) != nil {
		t.Fatalf("webhook got %d alerts, want 1", len(got))
	}
	if p.Type != alerts.KindOversold || p.ShopID != f.shopID || p.AlertID != raised.AlertID || deref(p.OversoldID) != "ovs_1" ||
		p.SKU != nil || p.VariantKey != nil || p.Available != nil || p.Threshold != nil {
		t.Errorf("webhook payload %+v", p)
	}
	if err := alerts.VerifySignature(webhookSecret, got[0].Header.Get(alerts.TimestampHeader), got[0].Body, got[0].Header.Get(alerts.SignatureHeader), 0); err != nil {
		t.Error(err)
	}
}

// What is recorded of a failed attempt is read by the shop's API key: it
// never carries the channel's URL (Slack's is a secret).
func TestDeliverErrorHidesURL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()
	a := f.alerter(alerts.Channels{SlackWebhookURL: closed + "/services/T0/B0/s3cr3tt0k3n"})
	raised := f.raiseOversold(t, a, "ovs_down")
	d := raised.Deliveries[0]
	err = a.Deliver(context.Background(), f.pool, d, false)
	if err == nil {
		t.Fatal("delivery to a closed port succeeded")
	}
	st := f.delivery(t, d)
	if st.LastError == nil || *st.LastError != alerts.ErrorRefused || st.Status != alerts.StatusPending {
		t.Fatalf("delivery %+v, want pending, refused", st)
	}
	for _, s := range []string{err.Error(), *st.LastError} {
		if strings.Contains(s, "s3cr3tt0k3n") || strings.Contains(s, "/services/") {
			t.Errorf("error %q names the channel's URL", s)
		}
	}
}

// A redirect is an answer to report, not to follow: following would turn
// the POST into a GET.
func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	slack, webhook := newReceiver(t, http.StatusFound), newReceiver(t)
	a := f.alerter(channels(slack, webhook))
	raised := f.raiseOversold(t, a, "ovs_redirect")
	d := alerts.Delivery{ShopID: f.shopID, AlertID: raised.AlertID, Channel: alerts.ChannelSlack}
	if err := a.Deliver(context.Background(), f.pool, d, false); err == nil || !strings.Contains(err.Error(), "http_302") {
		t.Errorf("delivery answered 302: %v, want an error naming it", err)
	}
	if n := len(slack.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1 (the redirect not followed)", n)
	}
}

// A channel turned off after the alert was raised fails its delivery
// without an error (retrying cannot help), and a delivery that does not
// exist is ErrNoDelivery.
func TestDeliverChannelGone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	slack, webhook := newReceiver(t), newReceiver(t)
	raised := f.raiseOversold(t, f.alerter(channels(slack, webhook)), "ovs_gone")
	a := f.alerter(alerts.Channels{SlackWebhookURL: slack.URL})
	d := alerts.Delivery{ShopID: f.shopID, AlertID: raised.AlertID, Channel: alerts.ChannelWebhook}
	if err := a.Deliver(context.Background(), f.pool, d, false); err != nil {
		t.Errorf("delivery to a channel turned off: %v, want nil", err)
	}
	if st := f.delivery(t, d); st.Status != alerts.StatusFailed || st.LastError == nil || *st.LastError != alerts.ErrorNotConfigured {
		t.Errorf("delivery %+v, want failed as not configured", st)
	}
	if n := len(webhook.requests()); n != 0 {
		t.Errorf("webhook got %d requests, want none", n)
	}

	err := a.Deliver(context.Background(), f.pool, alerts.Delivery{ShopID: f.shopID, AlertID: "alr_nope", Channel: alerts.ChannelSlack}, false)
	if !errors.Is(err, alerts.ErrNoDelivery) {
		t.Errorf("delivery of no alert: %v, want ErrNoDelivery", err)
	}
}

// A receiver slower than the HTTP client's timeout fails the attempt.
func TestDeliverTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets the handler return
	a := f.alerter(alerts.Channels{SlackWebhookURL: slow.URL, HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
	raised := f.raiseOversold(t, a, "ovs_slow")
	start := time.Now()
	if err := a.Deliver(context.Background(), f.pool, raised.Deliveries[0], false); err == nil {
		t.Fatal("delivery to a receiver that never answers succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("delivery took %s with a 100ms client timeout", d)
	}
	if st := f.delivery(t, raised.Deliveries[0]); st.Status != alerts.StatusPending || st.Attempts != 1 || st.LastError == nil || *st.LastError != alerts.ErrorTimeout {
		t.Errorf("delivery %+v, want pending after 1 attempt, timeout", st)
	}
}

// Each way a receiver can fail is recorded as its class, which is all a
// shop reads of it; the returned error says the class too, and keeps the
// detail for the log.
func TestDeliverErrorClasses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	garbage := rawServer(t, "garbage from 10.9.8.7\r\n\r\n")
	hangUp := rawServer(t, "")
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsServer.Close)
	for _, c := range []struct{ url, class string }{
		{"http://" + garbage, alerts.ErrorInvalidResponse},
		{"http://" + hangUp, alerts.ErrorConnectionLost},
		{"https://" + plain.Listener.Addr().String(), alerts.ErrorTLS},
		{tlsServer.URL, alerts.ErrorTLS}, // a certificate nobody vouches for
		{plain.URL + "/missing", "http_404"},
	} {
		a := f.alerter(alerts.Channels{SlackWebhookURL: c.url})
		raised := f.raiseOversold(t, a, "ovs_"+strings.NewReplacer(":", "_", "/", "_", ".", "_").Replace(c.url))
		err := a.Deliver(context.Background(), f.pool, raised.Deliveries[0], false)
		var derr *alerts.DeliveryError
		if !errors.As(err, &derr) || derr.Class != c.class || !strings.HasSuffix(err.Error(), ": "+c.class) {
			t.Errorf("%s: %v, want class %s", c.url, err, c.class)
		}
		if st := f.delivery(t, raised.Deliveries[0]); st.LastError == nil || *st.LastError != c.class {
			t.Errorf("%s: recorded %+v, want %s", c.url, st, c.class)
		}
	}
}

// rawServer answers every connection with answer, then closes it, and
// returns its address.
func rawServer(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Read(make([]byte, 4096))
			_, _ = io.WriteString(conn, answer)
			_ = conn.Close()
		}
	}()
	return ln.Addr().String()
}
