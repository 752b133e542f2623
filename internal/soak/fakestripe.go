package soak

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/internal/stripeevent"
)

// fakeStripe is a stateful stand-in for Stripe's API, served over HTTP for
// the checkoutd process (STRIPE_API_BASE). It keeps what checkoutd relies
// on: sessions created under an idempotency key come back for the same
// parameters and are refused for others; expires_at must be 30 minutes to
// 24 hours ahead; only an open session can be paid or expired; refunds are
// idempotent. Every state change a webhook would report is handed to emit.
type fakeStripe struct {
	emit func(ev pendingEvent)

	mu       sync.Mutex
	sessions map[string]*fakeSession
	keys     map[string]keyed
	refunds  map[string]bool
	n        int
	// counts of the API calls by kind, for the report.
	calls map[string]int
}

// fakeSession is a Checkout Session as the fake keeps it.
type fakeSession struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	URL           string            `json:"url"`
	Mode          string            `json:"mode"`
	Status        string            `json:"status"`
	PaymentStatus string            `json:"payment_status"`
	ExpiresAt     int64             `json:"expires_at"`
	Metadata      map[string]string `json:"metadata"`
}

// keyed is what an idempotency key was first used for.
type keyed struct {
	body      string
	sessionID string
}

// pendingEvent is an event the fake raised, for the deliverer.
type pendingEvent struct {
	ID        string
	Type      stripe.EventType
	SessionID string
	Payload   []byte
}

func newFakeStripe(emit func(pendingEvent)) *fakeStripe {
	return &fakeStripe{
		emit: emit, sessions: map[string]*fakeSession{}, keys: map[string]keyed{},
		refunds: map[string]bool{}, calls: map[string]int{},
	}
}

// serve serves the fake on a free loopback port until the listener closes,
// and returns its base URL.
func (f *fakeStripe) serve() (string, *http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen for the fake Stripe: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/checkout/sessions", f.create)
	mux.HandleFunc("GET /v1/checkout/sessions/{id}", f.get)
	mux.HandleFunc("POST /v1/checkout/sessions/{id}/expire", f.expire)
	mux.HandleFunc("POST /v1/refunds", f.refund)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv, nil
}

func (f *fakeStripe) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "", "could not parse the body")
		return
	}
	body := r.PostForm.Encode()
	key := r.Header.Get("Idempotency-Key")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["session.create"]++
	if k, ok := f.keys[key]; ok && key != "" {
		if k.body != body {
			stripeError(w, http.StatusBadRequest, "idempotency_error", "",
				"Keys for idempotent requests can only be used with the same parameters they were first used with.")
			return
		}
		writeStripe(w, f.sessions[k.sessionID])
		return
	}
	exp, _ := strconv.ParseInt(r.PostForm.Get("expires_at"), 10, 64)
	now := time.Now()
	if t := time.Unix(exp, 0); t.Before(now.Add(30*time.Minute)) || t.After(now.Add(24*time.Hour)) {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "expires_at",
			"The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.")
		return
	}
	metadata := map[string]string{}
	for name, v := range r.PostForm {
		if k, ok := strings.CutPrefix(name, "metadata["); ok && strings.HasSuffix(k, "]") && len(v) > 0 {
			metadata[strings.TrimSuffix(k, "]")] = v[0]
		}
	}
	f.n++
	id := fmt.Sprintf("cs_test_soak%06d", f.n)
	s := &fakeSession{
		ID: id, Object: "checkout.session", URL: "https://checkout.stripe.test/c/pay/" + id, Mode: "payment",
		Status: "open", PaymentStatus: "unpaid", ExpiresAt: exp, Metadata: metadata,
	}
	f.sessions[id] = s
	if key != "" {
		f.keys[key] = keyed{body: body, sessionID: id}
	}
	writeStripe(w, s)
}

func (f *fakeStripe) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["session.get"]++
	s, ok := f.sessions[r.PathValue("id")]
	if !ok {
		stripeError(w, http.StatusNotFound, "invalid_request_error", "id", "No such checkout.session")
		return
	}
	writeStripe(w, s)
}

func (f *fakeStripe) expire(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["session.expire"]++
	s, ok := f.sessions[r.PathValue("id")]
	switch {
	case !ok:
		stripeError(w, http.StatusNotFound, "invalid_request_error", "id", "No such checkout.session")
		return
	case s.Status != "open":
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "",
			`Only Checkout Sessions with a status in ["open"] can be expired.`)
		return
	}
	f.settle(s, stripe.EventTypeCheckoutSessionExpired)
	writeStripe(w, s)
}

func (f *fakeStripe) refund(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["refund.create"]++
	key := r.Header.Get("Idempotency-Key")
	f.refunds[key] = true
	writeStripe(w, map[string]any{"id": "re_" + strings.TrimPrefix(key, "checkoutd-refund-"), "object": "refund", "status": "succeeded"})
}

// pay is a customer paying a session: it completes if still open, and
// Stripe tells the webhook. It reports whether the payment went through.
func (f *fakeStripe) pay(sessionID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[sessionID]
	if !ok || s.Status != "open" {
		return false
	}
	f.settle(s, stripe.EventTypeCheckoutSessionCompleted)
	return true
}

// settle moves s to the state of event type t and emits the event.
func (f *fakeStripe) settle(s *fakeSession, t stripe.EventType) {
	state := stripeevent.CheckoutSessionEvents[t]
	s.Status, s.PaymentStatus = state.Status, state.PaymentStatus
	payload, id, err := stripeevent.Build(stripeevent.CheckoutSession{
		Type: t, SessionID: s.ID, State: state, Metadata: s.Metadata,
	}, time.Now())
	if err != nil {
		// Only a map of strings is encoded: this cannot fail.
		panic(err)
	}
	f.emit(pendingEvent{ID: id, Type: t, SessionID: s.ID, Payload: payload})
}

// accounts returns what Account needs to know of the fake's state.
func (f *fakeStripe) accounts() Stripe {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := Stripe{SessionsByCheckout: map[string]int{}, Paid: map[string]bool{}}
	for id, s := range f.sessions {
		out.SessionsByCheckout[s.Metadata["checkout_id"]]++
		if s.PaymentStatus == "paid" {
			out.Paid[id] = true
		}
	}
	return out
}

// callCounts returns the API calls checkoutd made, by kind.
func (f *fakeStripe) callCounts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{"refunds": len(f.refunds)}
	for k, v := range f.calls {
		out[k] = v
	}
	return out
}

func writeStripe(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func stripeError(w http.ResponseWriter, status int, typ, param, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"type": typ, "param": param, "message": msg}})
}
