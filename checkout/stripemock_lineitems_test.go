package checkout_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/internal/stripemock"
)

// Against stripe-mock, which checks every parameter against Stripe's
// schema: the settler's read of a paid session's line items, with the
// price's product expanded for its metadata, is a request Stripe accepts.
func TestStripeMockLineItems(t *testing.T) {
	t.Parallel()
	target, err := url.Parse(stripemock.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		reads []*url.URL
	)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/line_items") {
			mu.Lock()
			reads = append(reads, r.URL)
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	sessions := stripeclient.NewSessions(stripeclient.Config{SecretKey: "sk_test_123", APIBase: srv.URL, Timeout: 5 * time.Second})

	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 5)
	s, _, err := f.serviceWith(sessions).Create(context.Background(), f.request("cart-1", resizable("A", 1, 0, 3)))
	if err != nil {
		t.Fatalf("stripe-mock refused the session: %v", err)
	}
	settler := checkout.NewSettler(f.ledger, checkout.SettleConfig{Sessions: sessions})
	ev := checkout.SessionEvent{ID: "evt_mock", Type: stripe.EventTypeCheckoutSessionCompleted, SessionID: s.ID, PaymentStatus: "paid"}
	if _, err := settler.Prepare(context.Background(), f.pool, f.shopID, ev); err != nil {
		t.Fatalf("stripe-mock refused the line items' read: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(reads) == 0 {
		t.Fatal("the line items were not read")
	}
	u := reads[0]
	if want := "/v1/checkout/sessions/" + s.ID + "/line_items"; u.Path != want {
		t.Errorf("read %s, want %s", u.Path, want)
	}
	q := u.Query()
	if got := append(q["expand[]"], q["expand[0]"]...); len(got) != 1 || got[0] != "data.price.product" {
		t.Errorf("expand %v (query %s), want data.price.product", got, u.RawQuery)
	}
	if got := q.Get("limit"); got != "100" {
		t.Errorf("limit %q, want 100: a session's line items in one page", got)
	}
}
