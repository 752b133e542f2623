package soak

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
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
// 24 hours ahead, and a session still open then expires by itself; only an
// open session can be paid or expired, so expiring a paid one is refused
// with a 400 and a customer cannot pay an expired one; the line items list
// what the customer bought, the quantities they picked on the page
// included; refunds are idempotent. Every state change a webhook would
// report is handed to emit.
type fakeStripe struct {
	emit func(ev pendingEvent)
	srv  *http.Server
	// stop ends the sweep of sessions past their expires_at.
	stop chan struct{}

	mu       sync.Mutex
	sessions map[string]*fakeSession
	keys     map[string]keyed
	refunds  map[string]bool
	n        int
	// counts of the API calls by kind, and of the customers' payments, for
	// the report.
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
	PaymentIntent *string           `json:"payment_intent"`
	ExpiresAt     int64             `json:"expires_at"`
	Metadata      map[string]string `json:"metadata"`
	// lines are the session's line items in the order they were created;
	// once paid, each has the quantity the customer bought.
	lines []*fakeLine
}

// fakeLine is a line item as the fake keeps it.
type fakeLine struct {
	ID         string
	PriceID    string
	ProductID  string
	Name       string
	Metadata   map[string]string
	Currency   string
	UnitAmount int64
	Quantity   int64
	// Adjustable lines may be bought in any quantity from Min to Max.
	Adjustable bool
	Min, Max   int64
}

// key names the stock a line sells, as the soak's clients name it.
func (l *fakeLine) key() string { return lineKey(l.Metadata["sku"], l.Metadata["variant_key"]) }

// lineKey names a stock line in the soak's accounting: its SKU, and its
// variant in brackets when it has one.
func lineKey(sku, variant string) string {
	if variant == "" {
		return sku
	}
	return sku + "[" + variant + "]"
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

// Stripe's limits on adjustable quantities, and on a list's page size.
const (
	stripeMaxAdjustable     = 999
	stripeDefaultAdjustable = 99
	stripeMaxListLimit      = 100
	stripeDefaultListLimit  = 10
)

func newFakeStripe(emit func(pendingEvent)) *fakeStripe {
	return &fakeStripe{
		emit: emit, stop: make(chan struct{}), sessions: map[string]*fakeSession{}, keys: map[string]keyed{},
		refunds: map[string]bool{}, calls: map[string]int{},
	}
}

// serve serves the fake on a free loopback port until close, and returns
// its base URL.
func (f *fakeStripe) serve() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for the fake Stripe: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/checkout/sessions", f.create)
	mux.HandleFunc("GET /v1/checkout/sessions/{id}", f.get)
	mux.HandleFunc("GET /v1/checkout/sessions/{id}/line_items", f.lineItems)
	mux.HandleFunc("POST /v1/checkout/sessions/{id}/expire", f.expire)
	mux.HandleFunc("POST /v1/refunds", f.refund)
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	go f.sweep()
	return "http://" + ln.Addr().String(), nil
}

// close stops serving and stops expiring sessions.
func (f *fakeStripe) close() {
	close(f.stop)
	if f.srv != nil {
		_ = f.srv.Close()
	}
}

// sweep expires the open sessions whose expires_at has passed, every
// second, as Stripe does whether or not anyone asks about them.
func (f *fakeStripe) sweep() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case now := <-t.C:
			f.mu.Lock()
			for _, s := range f.sessions {
				f.lapse(s, now)
			}
			f.mu.Unlock()
		}
	}
}

// lapse expires s if it is open past its expires_at, and reports whether it
// did. Called under f.mu before a session is read or changed, so the sweep's
// timing never lets a customer pay a session Stripe would have closed.
func (f *fakeStripe) lapse(s *fakeSession, now time.Time) bool {
	if s.Status != "open" || now.Unix() < s.ExpiresAt {
		return false
	}
	f.calls["session.lapsed"]++
	f.settle(s, stripe.EventTypeCheckoutSessionExpired)
	return true
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
	f.n++
	id := fmt.Sprintf("cs_test_soak%06d", f.n)
	lines, param, msg := parseLineItems(r.PostForm, id)
	if param != "" {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", param, msg)
		return
	}
	metadata := map[string]string{}
	for name, v := range r.PostForm {
		if k, ok := strings.CutPrefix(name, "metadata["); ok && strings.HasSuffix(k, "]") && len(v) > 0 {
			metadata[strings.TrimSuffix(k, "]")] = v[0]
		}
	}
	s := &fakeSession{
		ID: id, Object: "checkout.session", URL: "https://checkout.stripe.test/c/pay/" + id, Mode: "payment",
		Status: "open", PaymentStatus: "unpaid", ExpiresAt: exp, Metadata: metadata, lines: lines,
	}
	f.sessions[id] = s
	if key != "" {
		f.keys[key] = keyed{body: body, sessionID: id}
	}
	writeStripe(w, s)
}

// parseLineItems reads the line_items[i][...] fields of a session's
// creation as Stripe does, refusing what Stripe refuses: no lines, a line
// without a price, a quantity out of its adjustable range. param names the
// field a refusal is about ("" when there is none).
func parseLineItems(form url.Values, sessionID string) (lines []*fakeLine, param, msg string) {
	for i := 0; ; i++ {
		p := fmt.Sprintf("line_items[%d]", i)
		field := func(name string) string { return form.Get(p + name) }
		price, currency := field("[price]"), field("[price_data][currency]")
		if price == "" && currency == "" && field("[quantity]") == "" {
			break
		}
		q, err := strconv.ParseInt(field("[quantity]"), 10, 64)
		if err != nil || q < 0 {
			return nil, p + "[quantity]", "Invalid integer: " + field("[quantity]")
		}
		l := &fakeLine{
			ID: fmt.Sprintf("li_%s_%d", sessionID, i), PriceID: price, ProductID: fmt.Sprintf("prod_%s_%d", sessionID, i),
			Quantity: q, Metadata: map[string]string{},
		}
		switch {
		case price != "" && currency != "":
			return nil, p + "[price]", "You may only specify one of these parameters: price, price_data."
		case price == "" && currency == "":
			return nil, p, "You must specify either `price` or `price_data` for each line item."
		case currency != "":
			l.PriceID = fmt.Sprintf("price_%s_%d", sessionID, i)
			l.Currency = currency
			l.UnitAmount, _ = strconv.ParseInt(field("[price_data][unit_amount]"), 10, 64)
			l.Name = field("[price_data][product_data][name]")
			const metaPrefix = "[price_data][product_data][metadata]["
			for name, v := range form {
				if k, ok := strings.CutPrefix(name, p+metaPrefix); ok && strings.HasSuffix(k, "]") && len(v) > 0 {
					l.Metadata[strings.TrimSuffix(k, "]")] = v[0]
				}
			}
		}
		if field("[adjustable_quantity][enabled]") == "true" {
			l.Adjustable, l.Min, l.Max = true, 0, stripeDefaultAdjustable
			if v := field("[adjustable_quantity][minimum]"); v != "" {
				l.Min, _ = strconv.ParseInt(v, 10, 64)
			}
			if v := field("[adjustable_quantity][maximum]"); v != "" {
				l.Max, _ = strconv.ParseInt(v, 10, 64)
			}
			switch {
			case l.Min < 0 || l.Max < 1 || l.Max > stripeMaxAdjustable || l.Min > l.Max:
				return nil, p + "[adjustable_quantity]", "The adjustable quantity's minimum must be 0 or more and at most its maximum, which may be at most 999."
			case q < l.Min || q > l.Max:
				return nil, p + "[quantity]", "The quantity must be between the adjustable quantity's minimum and maximum."
			}
		} else if q < 1 {
			return nil, p + "[quantity]", "This value must be greater than or equal to 1."
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return nil, "line_items", "line_items is required in payment mode."
	}
	return lines, "", ""
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
	f.lapse(s, time.Now())
	writeStripe(w, s)
}

// lineItems lists a session's line items a page at a time, as
// GET /v1/checkout/sessions/{id}/line_items does: the lines bought, with
// the quantities bought (a line the customer took down to 0 is not
// listed), each price's product expanded when asked for
// (expand[]=data.price.product) and named by its id otherwise.
func (f *fakeStripe) lineItems(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["session.line_items"]++
	id := r.PathValue("id")
	s, ok := f.sessions[id]
	if !ok {
		stripeError(w, http.StatusNotFound, "invalid_request_error", "id", "No such checkout.session")
		return
	}
	q := r.URL.Query()
	limit := stripeDefaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > stripeMaxListLimit {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "limit", "This value must be between 1 and 100.")
			return
		}
		limit = n
	}
	expand := false
	for name, vs := range q {
		if strings.HasPrefix(name, "expand[") && len(vs) > 0 && vs[0] == "data.price.product" {
			expand = true
		}
	}
	var listed []*fakeLine
	for _, l := range s.lines {
		if l.Quantity > 0 {
			listed = append(listed, l)
		}
	}
	if after := q.Get("starting_after"); after != "" {
		for i, l := range listed {
			if l.ID == after {
				listed = listed[i+1:]
				break
			}
		}
	}
	hasMore := len(listed) > limit
	listed = listed[:min(len(listed), limit)]
	data := make([]map[string]any, len(listed))
	for i, l := range listed {
		var product any = l.ProductID
		if expand {
			product = map[string]any{"id": l.ProductID, "object": "product", "name": l.Name, "metadata": l.Metadata}
		}
		amount := l.UnitAmount * l.Quantity
		data[i] = map[string]any{
			"id": l.ID, "object": "item", "quantity": l.Quantity, "description": l.Name, "currency": l.Currency,
			"amount_subtotal": amount, "amount_total": amount, "amount_discount": 0, "amount_tax": 0,
			"price": map[string]any{
				"id": l.PriceID, "object": "price", "currency": l.Currency, "unit_amount": l.UnitAmount, "product": product,
			},
		}
	}
	writeStripe(w, map[string]any{
		"object": "list", "data": data, "has_more": hasMore, "url": "/v1/checkout/sessions/" + id + "/line_items",
	})
}

func (f *fakeStripe) expire(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["session.expire"]++
	s, ok := f.sessions[r.PathValue("id")]
	if ok {
		f.lapse(s, time.Now())
	}
	switch {
	case !ok:
		stripeError(w, http.StatusNotFound, "invalid_request_error", "id", "No such checkout.session")
		return
	case s.Status != "open":
		// A paid session among them: checkoutd must read it to learn so.
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

// pay is a customer paying a session, buying picked units of each
// adjustable line (by lineKey; a line not in picked is bought as created).
// It completes the session if still open, and Stripe tells the webhook; an
// expired one, or a pick Stripe's page would not allow, is refused. late
// says the customer came back after the session's hold lapsed, for the
// counts. It reports whether the payment went through.
func (f *fakeStripe) pay(sessionID string, picked map[string]int64, late bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[sessionID]
	if !ok {
		return false
	}
	f.lapse(s, time.Now())
	if s.Status != "open" {
		f.calls["customer.refused"]++
		return false
	}
	bought := make([]int64, len(s.lines))
	kept, less, dropped := false, false, false
	for i, l := range s.lines {
		q, ok := picked[l.key()]
		switch {
		case !ok:
			q = l.Quantity
		case !l.Adjustable && q != l.Quantity, l.Adjustable && (q < l.Min || q > l.Max):
			f.calls["customer.bad_pick"]++
			return false
		}
		bought[i] = q
		kept = kept || q > 0
		less = less || (l.Adjustable && q < l.Max)
		dropped = dropped || q == 0
	}
	if !kept {
		// Stripe's page keeps at least one unit in the cart.
		f.calls["customer.bad_pick"]++
		return false
	}
	for i, l := range s.lines {
		l.Quantity = bought[i]
	}
	f.calls["customer.paid"]++
	if late {
		f.calls["customer.paid_after_lapse"]++
	}
	if less {
		f.calls["customer.bought_below_max"]++
	}
	if dropped {
		f.calls["customer.dropped_line"]++
	}
	f.settle(s, stripe.EventTypeCheckoutSessionCompleted)
	return true
}

// settle moves s to the state of event type t and emits the event. A
// completed session keeps the event's payment intent, as Stripe's does.
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
	var ev struct {
		Data struct {
			Object struct {
				PaymentIntent *string `json:"payment_intent"`
			} `json:"object"`
		} `json:"data"`
	}
	if json.Unmarshal(payload, &ev) == nil && ev.Data.Object.PaymentIntent != nil {
		s.PaymentIntent = ev.Data.Object.PaymentIntent
	}
	f.emit(pendingEvent{ID: id, Type: t, SessionID: s.ID, Payload: payload})
}

// accounts returns what Account needs to know of the fake's state.
func (f *fakeStripe) accounts() Stripe {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := Stripe{SessionsByCheckout: map[string]int{}, Paid: map[string]bool{}, Bought: map[string]map[string]int64{}}
	for id, s := range f.sessions {
		out.SessionsByCheckout[s.Metadata["checkout_id"]]++
		if s.PaymentStatus != "paid" {
			continue
		}
		out.Paid[id] = true
		bought := map[string]int64{}
		for _, l := range s.lines {
			if l.Quantity > 0 {
				bought[l.key()] += l.Quantity
			}
		}
		out.Bought[id] = bought
	}
	return out
}

// statuses returns every session's status, by session id.
func (f *fakeStripe) statuses() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]string, len(f.sessions))
	for id, s := range f.sessions {
		out[id] = s.Status
	}
	return out
}

// callCounts returns the API calls checkoutd made, by kind, and what the
// customers' payments came to.
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
