package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/availability"
	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/inventory"
)

// deliveryWait bounds how long a committed change may take to reach a
// stream in these tests: the Feed polls every 20 ms here, and the machine
// may be busy.
const deliveryWait = 5 * time.Second

// readState reads the retry advice and then stock events until it has one
// for each of lines lines, returning the latest by "SKU/variant key" and the
// last id. A line may come twice: a change committed just before the
// subscription can reach it after its current state. Events that follow
// within settle are read too, so that the test's next event is its own.
func readState(t *testing.T, st *sseStream, lines int) (map[string]map[string]any, uint64) {
	t.Helper()
	const settle = 300 * time.Millisecond
	first := st.next(t, deliveryWait)
	if first.Retry == "" || first.Event != "" {
		t.Fatalf("the stream began with %+v, want a retry: advice", first)
	}
	state := map[string]map[string]any{}
	var last uint64
	take := func(ev sseEvent) {
		id := eventID(t, ev)
		if id <= last {
			t.Errorf("event id %d after %d", id, last)
		}
		last = id
		d := stockData(t, ev)
		state[str(t, d, "sku")+"/"+str(t, d, "variantKey")] = d
	}
	for len(state) < lines {
		take(st.nextStock(t, deliveryWait))
	}
	for {
		select {
		case ev := <-st.events:
			if ev.Event == "stock" {
				take(ev)
			}
		case <-time.After(settle):
			return state, last
		}
	}
}

func eventID(t *testing.T, ev sseEvent) uint64 {
	t.Helper()
	id, err := strconv.ParseUint(ev.ID, 10, 64)
	if err != nil {
		t.Fatalf("event without a numeric id: %+v", ev)
	}
	return id
}

// A change committed by another connection reaches the subscriber, after
// the current state of every line; data is the public item and nothing more.
func TestStreamSendsStateThenChanges(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "size:M", "", 3)
	s.stock(t, shop, "TEE", "size:L", "", 30)
	s.stock(t, shop, "MUG", "", "", 7)
	s.stock(t, shop, "UNWATCHED", "", "", 7)

	st := s.openStream(t, streamPath(shop, "TEE", "MUG"), nil)
	if cc := st.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	state, last := readState(t, st, 3)
	for _, d := range state {
		assertKeys(t, d, publicItemKeys...)
	}
	if state["TEE/size:M"]["available"] != float64(3) || state["MUG/"]["available"] != float64(7) {
		t.Fatalf("state %v", state)
	}

	// A change to a line nobody here watches sends nothing; one to a
	// watched line, committed on another connection, is sent.
	s.stock(t, shop, "UNWATCHED", "", "", 1)
	s.hold(t, shop, map[string]any{"items": []any{item("TEE", "size:M", 1)}})
	ev := st.nextStock(t, deliveryWait)
	d := stockData(t, ev)
	assertKeys(t, d, publicItemKeys...)
	if d["sku"] != "TEE" || d["variantKey"] != "size:M" || d["available"] != float64(2) {
		t.Fatalf("change %v, want TEE size:M available 2", d)
	}
	if id := eventID(t, ev); id <= last {
		t.Errorf("change id %d not above %d", id, last)
	}
}

// A change rolled back sends nothing; the next committed one does.
func TestStreamIgnoresRolledBackChanges(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "", "", 5)
	st := s.openStream(t, streamPath(shop, "TEE"), nil)
	readState(t, st, 1)

	ctx := context.Background()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ledger.WithTx(tx).Adjust(ctx, shop, inventory.AdjustRequest{
		Reference: "rolled back",
		Changes:   []inventory.StockChange{{SKU: "TEE", Op: inventory.OpSet, Quantity: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-st.events:
		if ev.Event == "stock" {
			t.Fatalf("a rolled-back change was sent: %+v", ev)
		}
	case <-time.After(500 * time.Millisecond):
	}
	s.stock(t, shop, "TEE", "", "", 4)
	if d := stockData(t, st.nextStock(t, deliveryWait)); d["available"] != float64(4) {
		t.Fatalf("after the commit: %v", d)
	}
}

// A burst of holds on one line reaches a subscriber as far fewer events,
// ending on the last state.
func TestStreamCoalescesBursts(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "", "", 1000)
	st := s.openStream(t, streamPath(shop, "TEE"), nil)
	readState(t, st, 1)

	const holds, writers = 200, 8
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range holds / writers {
				if _, _, err := s.ledger.Reserve(context.Background(), shop, inventory.ReserveRequest{
					Items: []inventory.Line{{SKU: "TEE", Quantity: 1}}, TTL: time.Hour, Reference: "burst " + strconv.Itoa(w),
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	events := 0
	for {
		d := stockData(t, st.nextStock(t, deliveryWait))
		events++
		if d["available"] == float64(1000-holds) {
			break
		}
	}
	t.Logf("%d holds reached the subscriber as %d events", holds, events)
	if events >= holds/2 {
		t.Errorf("%d holds sent %d events: not coalesced", holds, events)
	}
}

// A reconnect with Last-Event-ID gets the current state of every line.
func TestStreamReconnectGetsCurrentState(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "", "", 5)
	s.stock(t, shop, "MUG", "", "", 6)
	st := s.openStream(t, streamPath(shop, "TEE", "MUG"), nil)
	_, last := readState(t, st, 2)
	st.close()

	// Changes while the client is away.
	s.stock(t, shop, "TEE", "", "", 2)
	s.stock(t, shop, "MUG", "", "", 0)
	again := s.openStream(t, streamPath(shop, "TEE", "MUG"), map[string]string{"Last-Event-ID": strconv.FormatUint(last, 10)})
	state, id := readState(t, again, 2)
	if state["TEE/"]["available"] != float64(2) || state["MUG/"]["available"] != float64(0) {
		t.Fatalf("state after reconnecting %v", state)
	}
	if id <= last {
		t.Errorf("ids went back: %d after %d", id, last)
	}
}

func TestStreamHeartbeats(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{public: httpapi.PublicConfig{Heartbeat: 100 * time.Millisecond}})
	shop := s.publicShop(t)
	st := s.openStream(t, streamPath(shop, "NONE"), nil)
	if ev := st.next(t, deliveryWait); ev.Retry != "2000" {
		t.Fatalf("first block %+v, want retry: 2000", ev)
	}
	for range 3 {
		if ev := st.next(t, time.Second); ev.Comment != "heartbeat" {
			t.Fatalf("%+v, want a heartbeat comment", ev)
		}
	}
}

// A graceful shutdown ends the open streams at once rather than waiting
// for their clients; the Feed still runs, so the server ends them itself.
func TestStreamEndsOnShutdown(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "", "", 5)
	var streams []*sseStream
	for range 3 {
		st := s.openStream(t, streamPath(shop, "TEE"), nil)
		readState(t, st, 1)
		streams = append(streams, st)
	}
	start := time.Now()
	if err := s.stopServer(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %s with streams open", took)
	}
	for _, st := range streams {
		select {
		case <-st.ended:
		case <-time.After(5 * time.Second):
			t.Fatal("a stream stayed open after the shutdown")
		}
	}
}

// The Feed stopping ends the streams it feeds.
func TestStreamEndsWhenFeedStops(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "", "", 5)
	ctx, cancel := context.WithCancel(context.Background())
	feed := availability.NewFeed(s.ledger, availability.Config{PollInterval: 20 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); _ = feed.Run(ctx) }()
	own := startPublic(t, publicOptions{ownFeed: feed})
	st := own.openStream(t, streamPath(shop, "TEE"), nil)
	readState(t, st, 1)
	cancel()
	<-done
	select {
	case <-st.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream stayed open after the Feed stopped")
	}
	// A stopped Feed refuses new streams.
	_, r := own.tryStream(t, streamPath(shop, "TEE"), nil)
	expect(t, r, http.StatusServiceUnavailable, "inventory_unavailable")
}

func TestStreamBudgets(t *testing.T) {
	t.Parallel()
	// Per client IP.
	s := startPublic(t, publicOptions{public: httpapi.PublicConfig{StreamsPerClient: 2}})
	shop := s.publicShop(t)
	a := s.openStream(t, streamPath(shop, "TEE"), nil)
	s.openStream(t, streamPath(shop, "TEE"), nil)
	_, r := s.tryStream(t, streamPath(shop, "TEE"), nil)
	expect(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Answers that are no stream take no slot.
	expect(t, getPublic(t, s, availabilityPath(shop, "TEE"), nil), http.StatusOK, "")
	a.close()
	waitFor(t, deliveryWait, func() bool {
		st, _ := s.tryStream(t, streamPath(shop, "TEE"), nil)
		return st != nil
	})

	// Per process: the Feed's subscriber cap.
	full := startPublic(t, publicOptions{feed: availability.Config{MaxSubscribers: 1}})
	fshop := full.publicShop(t)
	full.openStream(t, streamPath(fshop, "TEE"), nil)
	_, r = full.tryStream(t, streamPath(fshop, "TEE"), nil)
	expect(t, r, http.StatusTooManyRequests, "rate_limited")
}

// Without a Feed (STOCK_NOTIFY=0) the streams answer 503 and the reads
// still work.
func TestStreamWithoutFeed(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{noFeed: true})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "", "", 5)
	_, r := s.tryStream(t, streamPath(shop, "TEE"), nil)
	expect(t, r, http.StatusServiceUnavailable, "inventory_unavailable")
	r = s.do(t, req{Method: http.MethodGet, Path: shopPath(shop, "/stream"), Token: serviceToken, ServerError: true})
	expect(t, r, http.StatusServiceUnavailable, "inventory_unavailable")
	expect(t, getPublic(t, s, availabilityPath(shop, "TEE"), nil), http.StatusOK, "")
	s.stock(t, shop, "TEE", "", "", 4)
	r = getPublic(t, s, availabilityPath(shop, "TEE"), nil)
	if objs(t, r.Obj(t), "items")[0]["available"] != float64(4) {
		t.Errorf("without a Feed, reads are not cached: %s", r.Raw)
	}
}

// The shop's own stream: every line, with onHand and reserved, for the
// shop's key or the service token, whatever publicAvailability says.
func TestShopStream(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.newShop(t)
	other := s.newShop(t)
	s.stock(t, shop, "TEE", "size:M", "", 3)
	s.stock(t, shop, "MUG", "", "", 7)
	s.hold(t, shop, map[string]any{"items": []any{item("MUG", "", 2)}})
	path := shopPath(shop, "/stream")

	expect(t, s.do(t, req{Method: http.MethodGet, Path: path}), http.StatusUnauthorized, "unauthorized")
	otherKey, _ := s.shopKey(t, other)
	expect(t, s.do(t, req{Method: http.MethodGet, Path: path, Token: otherKey}), http.StatusNotFound, "not_found")
	expect(t, s.svc(t, http.MethodGet, shopPath("no-such-shop", "/stream"), nil), http.StatusNotFound, "not_found")

	key, _ := s.shopKey(t, shop)
	for _, token := range []string{key, serviceToken} {
		st := s.openStream(t, path, map[string]string{"Authorization": "Bearer " + token})
		state, _ := readState(t, st, 2)
		for _, d := range state {
			assertKeys(t, d, append([]string{"onHand", "reserved"}, publicItemKeys...)...)
		}
		if m := state["MUG/"]; m["onHand"] != float64(7) || m["reserved"] != float64(2) || m["available"] != float64(5) {
			t.Errorf("MUG %v", m)
		}
		s.hold(t, shop, map[string]any{"items": []any{item("TEE", "size:M", 1)}})
		if d := stockData(t, st.nextStock(t, deliveryWait)); d["sku"] != "TEE" || d["reserved"] == float64(0) {
			t.Errorf("change %v", d)
		}
		st.close()
	}
}
