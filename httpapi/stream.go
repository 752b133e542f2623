package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/checkoutd/checkoutd/availability"
	"github.com/checkoutd/checkoutd/internal/httpserver"
)

const (
	// DefaultHeartbeat is PublicConfig.Heartbeat's default: the contract's
	// "at least every 15 s".
	DefaultHeartbeat = 15 * time.Second
	// streamRetry is the reconnection delay a stream advises (retry:).
	streamRetry = 2 * time.Second
	// streamWriteTimeout bounds each write of a stream: the server's
	// WriteTimeout would end every stream after 30 s, so a stream clears it
	// and sets this per write instead, which only ends a stream whose client
	// stopped reading.
	streamWriteTimeout = httpserver.WriteTimeout
	// streamFullRetryAfter is what a refused stream is told to wait.
	streamFullRetryAfter = 5 * time.Second
	// maxKeptStreamBuffer is the largest write buffer a stream keeps for
	// its next batch.
	maxKeptStreamBuffer = 16 << 10
)

// streamSlots counts the streams each client holds open, against a cap.
type streamSlots struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

// acquire takes one of key's slots; false when key holds max already. A
// nil streamSlots has no cap.
func (s *streamSlots) acquire(key string) bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[key] >= s.max {
		return false
	}
	s.open[key]++
	return true
}

// release gives back a slot acquire took.
func (s *streamSlots) release(key string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[key]--; s.open[key] <= 0 {
		delete(s.open, key)
	}
}

// publicStream serves a shop's public availability of some SKUs as
// Server-Sent Events (see stream). HEAD answers the stream's headers.
func (a *API) publicStream(w http.ResponseWriter, r *http.Request) {
	shopID, skus, ok := a.publicRequest(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodHead {
		setStreamHeaders(w.Header())
		w.WriteHeader(http.StatusOK)
		return
	}
	client := budgetKey(a.clientIPs.of(r))
	if !a.streamSlots.acquire(client) {
		a.fail(w, r, &rateLimitedError{retryAfter: streamFullRetryAfter, whose: "this client's open-stream budget"})
		return
	}
	defer a.streamSlots.release(client)
	a.stream(w, r, shopID, skus, func(it availability.Item) any { return it })
}

// shopStream serves every line of a shop, with on-hand and reserved, to
// the shop itself (see stream).
func (a *API) shopStream(w http.ResponseWriter, r *http.Request) {
	shopID := pathVar(r, "shopId")
	if _, err := a.ledger.GetShop(r.Context(), shopID); err != nil {
		a.fail(w, r, err)
		return
	}
	a.stream(w, r, shopID, nil, func(it availability.Item) any { return it.Private() })
}

// stream subscribes to the lines (skus, or nil for all of the shop) and
// sends them as Server-Sent Events: a retry: advice, then one "stock" event
// per line with its current state, then one per change (coalesced by the
// subscription: a line that changed several times since the last write is
// sent once, as it is now), each with the change's id, and a comment every
// Heartbeat. A reconnect, Last-Event-ID or not, starts again with the
// current state of every line, which is all a client needs to be right.
//
// It ends when the client goes, when the Feed stops, and when the server
// begins to shut down (httpserver.Draining), so no stream holds up a
// graceful shutdown.
func (a *API) stream(w http.ResponseWriter, r *http.Request, shopID string, skus []string, view func(availability.Item) any) {
	ctx := r.Context()
	if a.cfg.Feed == nil {
		writeError(w, http.StatusServiceUnavailable, "inventory_unavailable", "live stock streams are turned off on this server", nil)
		return
	}
	sub, err := a.cfg.Feed.Subscribe(ctx, shopID, skus)
	switch {
	case errors.Is(err, availability.ErrTooManySubscribers):
		a.fail(w, r, &rateLimitedError{retryAfter: streamFullRetryAfter, whose: "this server's stream capacity"})
		return
	case errors.Is(err, availability.ErrFeedStopped):
		writeError(w, http.StatusServiceUnavailable, "inventory_unavailable", "live stock is not available: the server is stopping", nil)
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	defer sub.Close()

	rc := http.NewResponseController(w)
	// The server's read deadline would cancel the request when it passes,
	// even with nothing left to read; no deadline is the stream's rule.
	_ = rc.SetReadDeadline(time.Time{})
	setStreamHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	// buf holds what the next write sends: one write and one flush per
	// batch. It is kept between batches unless a large one (a shop's whole
	// state) grew it, so a quiet stream holds little memory.
	var buf []byte
	// send writes buf and flushes it to the client, within
	// streamWriteTimeout; false once the client cannot take it.
	send := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		_, err := w.Write(buf)
		if cap(buf) > maxKeptStreamBuffer {
			buf = nil
		}
		buf = buf[:0]
		return err == nil && rc.Flush() == nil
	}
	writeChanges := func(changes []availability.Change) bool {
		for _, c := range changes {
			data, err := json.Marshal(view(c.Item))
			if err != nil {
				a.log.ErrorContext(ctx, "encode stock event", "request_id", httpserver.RequestID(ctx), "shop_id", shopID, "error", err.Error())
				return false
			}
			buf = append(buf, "id: "...)
			buf = strconv.AppendUint(buf, c.ID, 10)
			buf = append(buf, "\nevent: stock\ndata: "...)
			buf = append(buf, data...)
			buf = append(buf, "\n\n"...)
		}
		return send()
	}

	buf = append(buf, "retry: "...)
	buf = strconv.AppendInt(buf, streamRetry.Milliseconds(), 10)
	buf = append(buf, "\n\n"...)
	if !send() {
		return
	}
	heartbeat := time.NewTicker(a.heartbeat)
	defer heartbeat.Stop()
	draining := httpserver.Draining(ctx)
	for {
		select {
		case <-sub.Ready():
			if !writeChanges(sub.Take()) {
				return
			}
		case <-heartbeat.C:
			buf = append(buf, ": heartbeat\n\n"...)
			if !send() {
				return
			}
		case <-sub.Done():
			// The last states still waiting go out before the stream ends.
			if changes := sub.Take(); changes != nil {
				writeChanges(changes)
			}
			return
		case <-draining:
			return
		case <-ctx.Done():
			return
		}
	}
}

// setStreamHeaders sets the headers of an event stream: never cached, and
// not buffered by proxies that honour X-Accel-Buffering (nginx).
func setStreamHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
}
