package testkit

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/form"

	"github.com/checkoutd/checkoutd/internal/stripeclient"
)

var _ stripeclient.Sessions = (*FakeStripe)(nil)

// FakeStripe is an in-process Stripe Checkout Sessions API
// (stripeclient.Sessions) that records every call and behaves like Stripe
// where checkoutd relies on it:
//
//   - New honours idempotency keys: the same key with the same parameters
//     returns the session made the first time; with other parameters it
//     returns an idempotency_error
//     (https://docs.stripe.com/changelog/2015-09-03/reuse-idempotency-tokens-alter-error).
//     It refuses an expires_at outside 30 minutes to 24 hours from now.
//   - Get of an unknown session is a 404 (resource_missing); a paid
//     session carries its PaymentIntent.
//   - Expire of a session that is no longer open is a 400, as Stripe
//     answers; an unknown one is a 404 unless ExpireUnknown was called.
//   - ListLineItems lists a session's line items in pages (of at most the
//     request's limit, or PageLineItems' size), as the customer left them
//     (SetQuantity); a price's product carries its metadata only when the
//     request expands data.price.product, as with Stripe.
//
// Failures are injected per call (BeforeNew) or per session (FailGet,
// FailExpire, FailLineItems). The zero value is not usable: call
// NewFakeStripe.
type FakeStripe struct {
	mu       sync.Mutex
	calls    []*stripe.CheckoutSessionParams
	sessions map[string]*stripe.CheckoutSession
	keys     map[string]keyRecord
	gets     map[string]int
	expires  map[string]int
	made     int
	getErr   map[string]error
	expErr   map[string]error
	items    map[string][]*stripe.LineItem
	itemsErr map[string]error
	listings map[string]int
	pageSize int

	before        func(n int, p *stripe.CheckoutSessionParams) error
	after         func(n int, s *stripe.CheckoutSession)
	expireUnknown bool
}

// keyRecord is what Stripe keeps for an idempotency key.
type keyRecord struct {
	params  *stripe.CheckoutSessionParams
	encoded string
	session *stripe.CheckoutSession
}

// NewFakeStripe returns a FakeStripe that knows no session.
func NewFakeStripe() *FakeStripe {
	return &FakeStripe{
		sessions: map[string]*stripe.CheckoutSession{},
		keys:     map[string]keyRecord{},
		gets:     map[string]int{},
		expires:  map[string]int{},
		getErr:   map[string]error{},
		expErr:   map[string]error{},
		items:    map[string][]*stripe.LineItem{},
		itemsErr: map[string]error{},
		listings: map[string]int{},
	}
}

// FormBody is the request body stripe-go sends for p: what Stripe compares
// when an idempotency key comes again.
func FormBody(p *stripe.CheckoutSessionParams) string {
	values := &form.Values{}
	form.AppendTo(values, p)
	return values.Encode()
}

// newSessionID is unique across fakes, so that sessions of tests sharing a
// database never collide.
func newSessionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "cs_test_" + hex.EncodeToString(b[:])
}

// New creates a Checkout Session, or replays the one made for the request's
// idempotency key.
func (s *FakeStripe) New(p *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	s.calls = append(s.calls, p)
	n := len(s.calls)
	before := s.before
	s.mu.Unlock()

	if before != nil {
		if err := before(n, p); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	encoded := FormBody(p)
	var key string
	if p.IdempotencyKey != nil {
		key = *p.IdempotencyKey
	}
	if rec, ok := s.keys[key]; ok && key != "" {
		s.mu.Unlock()
		if rec.encoded != encoded {
			return nil, &stripe.Error{
				HTTPStatusCode: http.StatusBadRequest, Type: stripe.ErrorTypeIdempotency,
				Msg: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", key),
			}
		}
		sess := *rec.session
		return &sess, nil
	}
	// Stripe checks expires_at when it creates a session (a replayed key
	// returns the saved session without a new check).
	if p.ExpiresAt != nil {
		now := time.Now()
		if exp := time.Unix(*p.ExpiresAt, 0); exp.Before(now.Add(30*time.Minute)) || exp.After(now.Add(24*time.Hour)) {
			s.mu.Unlock()
			return nil, &stripe.Error{
				HTTPStatusCode: http.StatusBadRequest, Type: stripe.ErrorTypeInvalidRequest, Param: "expires_at",
				Msg: "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
			}
		}
	}
	id := newSessionID()
	sess := &stripe.CheckoutSession{
		ID:                id,
		Object:            "checkout.session",
		URL:               "https://checkout.stripe.test/c/pay/" + id,
		Mode:              stripe.CheckoutSessionModePayment,
		Status:            stripe.CheckoutSessionStatusOpen,
		Metadata:          maps.Clone(p.Metadata),
		ExpiresAt:         deref(p.ExpiresAt),
		SuccessURL:        deref(p.SuccessURL),
		CancelURL:         deref(p.CancelURL),
		ClientReferenceID: deref(p.ClientReferenceID),
		CustomerEmail:     deref(p.CustomerEmail),
		UIMode:            stripe.CheckoutSessionUIModeHosted,
	}
	if deref(p.UIMode) == string(stripe.CheckoutSessionUIModeEmbedded) {
		// Stripe answers an embedded session with a client secret for
		// Stripe.js and no page of its own.
		sess.UIMode, sess.URL = stripe.CheckoutSessionUIModeEmbedded, ""
		sess.ClientSecret = id + "_secret_" + id[len(id)-8:]
		sess.ReturnURL = deref(p.ReturnURL)
	}
	s.sessions[id] = sess
	s.items[id] = lineItems(id, p)
	s.made++
	if key != "" {
		s.keys[key] = keyRecord{params: p, encoded: encoded, session: sess}
	}
	after := s.after
	s.mu.Unlock()
	if after != nil {
		after(n, sess)
	}
	out := *sess
	return &out, nil
}

// Get returns a session as Stripe has it now.
func (s *FakeStripe) Get(id string, _ *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets[id]++
	if err := s.getErr[id]; err != nil {
		return nil, err
	}
	sess, ok := s.sessions[id]
	if !ok {
		return nil, missing(id)
	}
	out := *sess
	return &out, nil
}

// Expire expires an open session.
func (s *FakeStripe) Expire(id string, _ *stripe.CheckoutSessionExpireParams) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expires[id]++
	if err := s.expErr[id]; err != nil {
		return nil, err
	}
	sess, ok := s.sessions[id]
	switch {
	case !ok && !s.expireUnknown:
		return nil, missing(id)
	case !ok:
		sess = &stripe.CheckoutSession{ID: id, Object: "checkout.session", Status: stripe.CheckoutSessionStatusOpen}
		s.sessions[id] = sess
	case sess.Status != stripe.CheckoutSessionStatusOpen:
		return nil, &stripe.Error{HTTPStatusCode: http.StatusBadRequest, Type: stripe.ErrorTypeInvalidRequest,
			Msg: "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"" + string(sess.Status) + "\"."}
	}
	sess.Status = stripe.CheckoutSessionStatusExpired
	out := *sess
	return &out, nil
}

func missing(id string) error {
	return &stripe.Error{HTTPStatusCode: http.StatusNotFound, Type: stripe.ErrorTypeInvalidRequest,
		Code: stripe.ErrorCodeResourceMissing, Msg: "No such checkout.session: " + id}
}

// ExpireUnknown makes Expire treat a session it never made as an open one:
// for tests whose reaper expires the sessions of other tests' holds in the
// shared database, which must succeed and leave no retries behind.
func (s *FakeStripe) ExpireUnknown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireUnknown = true
}

// BeforeNew sets a hook run at the start of every New call (n counts calls
// from 1). An error it returns is New's, and nothing is created or
// remembered, as Stripe does for a request it did not start executing.
func (s *FakeStripe) BeforeNew(fn func(n int, p *stripe.CheckoutSessionParams) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = fn
}

// AfterNew sets a hook run once a session was made and remembered under its
// idempotency key; it may panic to stand for a crash after Stripe answered.
func (s *FakeStripe) AfterNew(fn func(n int, s *stripe.CheckoutSession)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after = fn
}

// NewCalls returns the params of every New call so far, replays and
// failures included.
func (s *FakeStripe) NewCalls() []*stripe.CheckoutSessionParams {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*stripe.CheckoutSessionParams(nil), s.calls...)
}

// LastCall returns the params of the last New call, failing the test if
// there was none.
func (s *FakeStripe) LastCall(tb testing.TB) *stripe.CheckoutSessionParams {
	tb.Helper()
	calls := s.NewCalls()
	if len(calls) == 0 {
		tb.Fatal("Stripe was not called")
	}
	return calls[len(calls)-1]
}

// SessionCount is how many sessions the fake made.
func (s *FakeStripe) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.made
}

// Session returns a copy of a session as Stripe has it (its metadata is
// what Stripe sends back in the session's events).
func (s *FakeStripe) Session(id string) (stripe.CheckoutSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return stripe.CheckoutSession{}, false
	}
	out := *sess
	out.Metadata = maps.Clone(sess.Metadata)
	return out, true
}

// Add makes the fake know an open session it did not create.
func (s *FakeStripe) Add(id string) {
	s.SetStatus(id, stripe.CheckoutSessionStatusOpen)
}

// SetStatus sets a session's status, adding the session if unknown.
func (s *FakeStripe) SetStatus(id string, st stripe.CheckoutSessionStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		sess = &stripe.CheckoutSession{ID: id, Object: "checkout.session"}
		s.sessions[id] = sess
	}
	sess.Status = st
}

// Pay completes a session with the PaymentIntent pi, as a customer paying.
func (s *FakeStripe) Pay(id, pi string) {
	s.SetStatus(id, stripe.CheckoutSessionStatusComplete)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[id].PaymentIntent = &stripe.PaymentIntent{ID: pi}
	s.sessions[id].PaymentStatus = stripe.CheckoutSessionPaymentStatusPaid
}

// Status is a session's status ("" if unknown).
func (s *FakeStripe) Status(id string) stripe.CheckoutSessionStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.sessions[id]; ok {
		return sess.Status
	}
	return ""
}

// FailGet makes every Get of the session fail with err.
func (s *FakeStripe) FailGet(id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.getErr[id] = err
}

// FailExpire makes every Expire of the session fail with err, whatever its
// status.
func (s *FakeStripe) FailExpire(id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expErr[id] = err
}

// Counts is how many times a session was expired and fetched.
func (s *FakeStripe) Counts(id string) (expires, gets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires[id], s.gets[id]
}

// Age makes everything Stripe remembers look as if it had happened d ago:
// the expiry sent with each remembered request moves back by d, as it would
// have been had the request been made d earlier.
func (s *FakeStripe) Age(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, rec := range s.keys {
		if rec.params.ExpiresAt == nil {
			continue
		}
		p := *rec.params
		p.ExpiresAt = stripe.Int64(*rec.params.ExpiresAt - int64(d/time.Second))
		rec.session.ExpiresAt = *p.ExpiresAt
		s.keys[key] = keyRecord{params: &p, encoded: FormBody(&p), session: rec.session}
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// FakeRefunds is an in-process Stripe Refunds API that records each refund
// asked for. The zero value is ready to use.
type FakeRefunds struct {
	mu    sync.Mutex
	calls []*stripe.RefundParams
	err   error
}

// New records a refund and succeeds, unless Fail set an error.
func (r *FakeRefunds) New(params *stripe.RefundParams) (*stripe.Refund, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, params)
	if r.err != nil {
		return nil, r.err
	}
	return &stripe.Refund{ID: fmt.Sprintf("re_test_%d", len(r.calls)), Status: stripe.RefundStatusSucceeded}, nil
}

// Fail makes every later refund fail with err (nil: succeed again).
func (r *FakeRefunds) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// Made returns the params of every refund asked for so far.
func (r *FakeRefunds) Made() []*stripe.RefundParams {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*stripe.RefundParams(nil), r.calls...)
}

// timeoutError is what net/http returns when a request times out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}

// StripeTimeout is the error stripe-go gives for a request to Stripe that
// timed out: whether Stripe acted on it is unknown.
func StripeTimeout() error {
	return &url.Error{Op: "Post", URL: "https://api.stripe.com/v1/checkout/sessions", Err: timeoutError{}}
}
