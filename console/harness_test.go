package console_test

// The harness serves the console over a real ledger on the package's test
// database, once per test binary, like httpapi's. Tests keep out of each
// other's way by working under shops of their own, and act as a browser
// would: a cookie jar, forms read from the pages they were served on.

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/console"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
	"github.com/checkoutd/checkoutd/jobs"
)

const (
	serviceToken    = "svc-token-for-console-tests"
	lowStockDefault = 5
	holdTTL         = 20 * time.Minute
)

type harness struct {
	url    string
	pool   *pgxpool.Pool
	ledger *inventory.Ledger
	keys   *apikey.Store
	jobs   *river.Client[pgx.Tx]
}

var (
	sharedOnce sync.Once
	shared     *harness
)

// start returns the shared server, starting it on first use.
func start(tb testing.TB) *harness {
	tb.Helper()
	pool := testdb.Pool(tb)
	sharedOnce.Do(func() {
		h := &harness{pool: pool, keys: apikey.NewStore(pool)}
		h.ledger = inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: lowStockDefault, Logger: slog.New(slog.DiscardHandler)})
		var err error
		if h.jobs, err = jobs.NewInsertOnlyClient(pool, slog.New(slog.DiscardHandler)); err != nil {
			tb.Fatalf("river client: %v", err)
		}
		h.url = serveConsole(tb, h, console.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: holdTTL})
		shared = h
	})
	if shared == nil {
		tb.Fatal("the shared console did not start")
	}
	return shared
}

// serveConsole serves a console with cfg (its token and key filled in) on
// h's ledger, for the life of the test binary, and returns its URL.
func serveConsole(tb testing.TB, h *harness, cfg console.Config) string {
	tb.Helper()
	key, err := console.SessionKey("", serviceToken)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ServiceToken, cfg.SessionKey, cfg.Logger = serviceToken, key, slog.New(slog.DiscardHandler)
	c, err := console.New(h.ledger, h.pool, h.keys, h.jobs, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	r := mux.NewRouter()
	r.UseEncodedPath()
	c.Mount(r)
	return httptest.NewServer(r).URL
}

// shop is a fixture shop with a key of its own.
type shop struct {
	*inventorytest.Shop
	key string
	// keyID is the key's id, as createdBy records it.
	keyID string
}

func (h *harness) newShop(tb testing.TB) *shop {
	tb.Helper()
	s := inventorytest.NewShop(tb, h.ledger, nil)
	token, key, err := h.keys.Create(context.Background(), s.ID, "console test")
	if err != nil {
		tb.Fatal(err)
	}
	return &shop{Shop: s, key: token, keyID: key.ID}
}

// browser is a client with a cookie jar that does not follow redirects, so
// tests see them.
type browser struct {
	tb     testing.TB
	base   string
	client *http.Client
}

func newBrowser(tb testing.TB, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{tb: tb, base: base, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response read whole.
type page struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.tb.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.tb.Fatal(err)
	}
	return page{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browser) get(path string) page {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.tb.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// csrf is the CSRF token of the forms on p.
func (p page) csrf(tb testing.TB) string {
	tb.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		tb.Fatalf("no CSRF token on the page:\n%s", p.body)
	}
	return html.UnescapeString(m[1])
}

// signIn signs in with token and returns where the console sent the
// browser.
func (b *browser) signIn(token string) page {
	b.tb.Helper()
	form := b.get("/console/signin")
	return b.post("/console/signin", url.Values{"csrf": {form.csrf(b.tb)}, "token": {token}})
}

// signedIn returns a browser signed in with token.
func signedIn(tb testing.TB, base, token string) *browser {
	tb.Helper()
	b := newBrowser(tb, base)
	if p := b.signIn(token); p.status != http.StatusSeeOther {
		tb.Fatalf("sign in: status %d\n%s", p.status, p.body)
	}
	return b
}

// formCSRF is the CSRF token of the forms of a signed-in page.
func (b *browser) formCSRF(shopID string) string {
	b.tb.Helper()
	return b.get("/console/s/" + shopID + "/changes").csrf(b.tb)
}

func requireStatus(tb testing.TB, p page, want int) {
	tb.Helper()
	if p.status != want {
		tb.Fatalf("status %d, want %d\n%s", p.status, want, p.body)
	}
}

func requireContains(tb testing.TB, p page, wants ...string) {
	tb.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			tb.Fatalf("page lacks %q:\n%s", w, p.body)
		}
	}
}

func requireLacks(tb testing.TB, p page, unwanted ...string) {
	tb.Helper()
	for _, w := range unwanted {
		if strings.Contains(p.body, w) {
			tb.Fatalf("page has %q:\n%s", w, p.body)
		}
	}
}
