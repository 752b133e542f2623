package httpapi_test

// The public routes' tests run servers of their own, each with a running
// availability Feed (the shared harness has none), configured per test:
// CORS origins, client budgets, heartbeat.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/availability"
	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// testOrigin is the origin the public servers allow unless told otherwise.
const testOrigin = "https://shop.example"

// publicOptions configure a public server.
type publicOptions struct {
	public httpapi.PublicConfig
	feed   availability.Config
	// noFeed serves without a Feed, as STOCK_NOTIFY=0 does.
	noFeed bool
	// ownFeed, when set, is the Feed to serve with; the test runs it.
	ownFeed *availability.Feed
}

// publicServer is a running server with the public routes and its Feed.
type publicServer struct {
	*harness
	feed *availability.Feed
	// stopServer starts the server's graceful shutdown and waits for Serve
	// to return; the Feed keeps running until the test ends.
	stopServer func() error
}

// startPublic starts a server with the API, the public routes and a Feed
// on the package's test database, stopped when the test ends.
func startPublic(t *testing.T, opts publicOptions) *publicServer {
	t.Helper()
	pool := testdb.Pool(t)
	logger := serverLogger()
	registry := httpserver.NewRegistry()
	ledger := inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: lowStockDefault, Logger: logger})
	if opts.public.CORSOrigins == nil {
		opts.public.CORSOrigins = []string{testOrigin}
	}
	var feed *availability.Feed
	feedCtx, stopFeed := context.WithCancel(context.Background())
	feedDone := make(chan struct{})
	switch {
	case opts.noFeed:
		close(feedDone)
	case opts.ownFeed != nil:
		feed = opts.ownFeed
		close(feedDone)
	default:
		if opts.feed.PollInterval == 0 {
			opts.feed.PollInterval = 20 * time.Millisecond
		}
		opts.feed.Logger = slog.New(slog.DiscardHandler)
		feed = availability.NewFeed(ledger, opts.feed)
		go func() {
			defer close(feedDone)
			_ = feed.Run(feedCtx)
		}()
	}
	keys := apikey.NewStore(pool)
	srv := httpserver.New(httpserver.Options{Pool: pool, Registry: registry, Logger: logger, ShutdownTimeout: 10 * time.Second})
	api := httpapi.New(ledger, keys, httpapi.Config{
		ServiceToken: serviceToken, DefaultHoldTTL: defaultHoldTTL, Registerer: registry,
		Feed: feed, Public: opts.public,
	}, logger)
	api.Mount(srv.Router())
	api.MountPublic(srv.Router())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	var stopped error
	var stoppedOnce bool
	stopServer := func() error {
		if stoppedOnce {
			return stopped
		}
		stoppedOnce = true
		cancel()
		transport.CloseIdleConnections()
		select {
		case stopped = <-served:
		case <-time.After(15 * time.Second):
			stopped = errors.New("Serve did not return 15s after cancel")
		}
		return stopped
	}
	t.Cleanup(func() {
		if err := stopServer(); err != nil {
			t.Errorf("stop server: %v", err)
		}
		stopFeed()
		<-feedDone
	})
	h := &harness{url: "http://" + ln.Addr().String(), pool: pool, ledger: ledger, keys: keys, client: client}
	return &publicServer{harness: h, feed: feed, stopServer: stopServer}
}

// publicShop creates a shop with publicAvailability on.
func (s *publicServer) publicShop(t *testing.T) string {
	t.Helper()
	shop := s.newShop(t)
	on := true
	if _, err := s.ledger.UpdateShop(context.Background(), shop, inventory.ShopUpdate{PublicAvailability: &on}); err != nil {
		t.Fatal(err)
	}
	return shop
}

// availabilityPath is the public availability path of skus of shop.
func availabilityPath(shop string, skus ...string) string {
	q := make([]string, len(skus))
	for i, s := range skus {
		q[i] = "sku=" + s
	}
	return "/api/public/shops/" + shop + "/availability?" + strings.Join(q, "&")
}

// streamPath is the public stream path of skus of shop.
func streamPath(shop string, skus ...string) string {
	p := availabilityPath(shop, skus...)
	i := strings.Index(p, "?")
	return p[:i] + "/stream" + p[i:]
}

// sseEvent is one block of an event stream: an event, a comment or a
// retry advice.
type sseEvent struct {
	ID, Event, Data, Comment, Retry string
}

// sseStream is an open event stream.
type sseStream struct {
	resp   *http.Response
	events chan sseEvent
	// ended is closed when the stream ends; err then says how.
	ended  chan struct{}
	err    error
	cancel context.CancelFunc
}

// openStream opens path as an event stream with header, failing the test
// unless it answers 200 text/event-stream.
func (s *publicServer) openStream(t *testing.T, path string, header map[string]string) *sseStream {
	t.Helper()
	st, resp := s.tryStream(t, path, header)
	if st == nil {
		t.Fatalf("GET %s: %d %s", path, resp.Status, resp.Raw)
	}
	return st
}

// tryStream opens path as an event stream; when it is not answered with
// one, it returns nil and the answer.
func (s *publicServer) tryStream(t *testing.T, path string, header map[string]string) (*sseStream, *response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// No client timeout: a stream lasts.
	resp, err := (&http.Client{Transport: s.client.Transport}).Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		out := &response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
		out.JSON = decodeJSON(raw)
		return nil, out
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		cancel()
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	st := &sseStream{resp: resp, events: make(chan sseEvent, 10000), ended: make(chan struct{}), cancel: cancel}
	go st.read()
	t.Cleanup(st.close)
	return st, nil
}

// read parses the stream into events until it ends.
func (st *sseStream) read() {
	defer close(st.ended)
	sc := bufio.NewScanner(st.resp.Body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			st.events <- ev
			ev = sseEvent{}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			ev.Comment = value
		case "id":
			ev.ID = value
		case "event":
			ev.Event = value
		case "data":
			ev.Data = value
		case "retry":
			ev.Retry = value
		}
	}
	st.err = sc.Err()
}

// close ends the stream from the client's side.
func (st *sseStream) close() {
	st.cancel()
	st.resp.Body.Close()
	<-st.ended
}

// next returns the next block within d, or fails the test.
func (st *sseStream) next(t *testing.T, d time.Duration) sseEvent {
	t.Helper()
	select {
	case ev := <-st.events:
		return ev
	case <-st.ended:
		// Blocks read before the end come first.
		select {
		case ev := <-st.events:
			return ev
		default:
		}
		t.Fatalf("the stream ended (%v) while an event was awaited", st.err)
	case <-time.After(d):
		t.Fatalf("no event within %s", d)
	}
	return sseEvent{}
}

// nextStock returns the next "stock" event within d, skipping heartbeats.
func (st *sseStream) nextStock(t *testing.T, d time.Duration) sseEvent {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev := st.next(t, time.Until(deadline))
		if ev.Event == "stock" {
			return ev
		}
	}
}

// decodeJSON decodes raw, or returns nil when it is not JSON.
func decodeJSON(raw []byte) any {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	return v
}

// stockData decodes a stock event's data.
func stockData(t *testing.T, ev sseEvent) map[string]any {
	t.Helper()
	m, ok := decodeJSON([]byte(ev.Data)).(map[string]any)
	if !ok {
		t.Fatalf("event data is not a JSON object: %q", ev.Data)
	}
	return m
}
