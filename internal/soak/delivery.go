package soak

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"
)

// deliverer delivers the fake Stripe's events to checkoutd's webhook
// endpoint the way Stripe does at its worst: each event 1 to 3 times, at
// random moments within maxDelay so events of all sessions arrive out of
// order, every delivery signed afresh with the endpoint secret, and the
// first delivery retried after every failure until it is acknowledged.
type deliverer struct {
	ctx      context.Context
	caller   *caller
	secret   string
	maxDelay time.Duration

	mu  sync.Mutex
	rng *rand.Rand
	// pending counts the events not acknowledged yet.
	pending int
	// closed is set once close has begun: later events are dropped.
	closed bool
	wg     sync.WaitGroup
}

func newDeliverer(ctx context.Context, c *caller, secret string, seed uint64) *deliverer {
	return &deliverer{ctx: ctx, caller: c, secret: secret, maxDelay: 3 * time.Second, rng: rand.New(rand.NewPCG(seed, 0x57a1))}
}

// enqueue schedules the deliveries of ev. It never blocks.
func (d *deliverer) enqueue(ev pendingEvent) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	copies := 1 + d.rng.IntN(3)
	delays := make([]time.Duration, copies)
	for i := range delays {
		delays[i] = time.Duration(d.rng.Int64N(int64(d.maxDelay)))
	}
	d.pending++
	d.wg.Add(copies)
	d.mu.Unlock()

	go func() {
		defer d.wg.Done()
		d.sleep(delays[0])
		d.deliverUntilAcknowledged(ev)
	}()
	for _, delay := range delays[1:] {
		go func() {
			defer d.wg.Done()
			d.sleep(delay)
			d.deliver(ev)
		}()
	}
}

// deliverUntilAcknowledged delivers ev until checkoutd answers 2xx, with
// Stripe-like backoff (capped short, to fit a soak), or the soak ends.
func (d *deliverer) deliverUntilAcknowledged(ev pendingEvent) {
	backoff := 250 * time.Millisecond
	for d.ctx.Err() == nil {
		if d.deliver(ev) {
			d.mu.Lock()
			d.pending--
			d.mu.Unlock()
			return
		}
		d.sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// deliver makes one delivery and reports whether it was acknowledged,
// recording the acknowledgement.
func (d *deliverer) deliver(ev pendingEvent) bool {
	if d.ctx.Err() != nil {
		return false
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: ev.Payload, Secret: d.secret})
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, d.caller.base+"/webhooks/stripe", bytes.NewReader(signed.Payload))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", signed.Header)
	a, err := d.caller.send(d.ctx, "webhook", req)
	if err != nil || !a.ok() {
		return false
	}
	d.caller.rec.withAcks(func(acks *Acks) {
		switch ev.Type {
		case stripe.EventTypeCheckoutSessionCompleted:
			acks.PaidEvents[ev.ID] = ev.SessionID
		case stripe.EventTypeCheckoutSessionExpired:
			acks.ExpiredEvents[ev.ID] = ev.SessionID
		}
	})
	return true
}

// unacknowledged is how many events still wait for a 2xx.
func (d *deliverer) unacknowledged() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pending
}

// close drops the events raised from now on and waits for every delivery
// under way to be made or given up (once the deliverer's context is done).
func (d *deliverer) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
}

func (d *deliverer) sleep(t time.Duration) {
	select {
	case <-d.ctx.Done():
	case <-time.After(t):
	}
}
