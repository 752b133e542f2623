package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"
)

// shopID is the shop the soak works in.
const shopID = "soak"

// The stock the soak sells: skuCount SKUs, each stocked with initialStock
// units at the start, so that checkouts compete for them. The first, the
// hot SKU, is a flash sale: stocked with hotStock and asked for in
// hotShare percent of the lines, it is sold out most of the time, so a unit
// a lapsed hold gives back is taken by the next checkout at once. A paid
// order whose hold gave its stock back too soon is then oversold, not
// quietly sold again.
const (
	skuCount     = 8
	initialStock = 30
	hotStock     = 10
	hotShare     = 25
)

func skuName(i int) string { return fmt.Sprintf("SOAK-%d", i+1) }

// client is one of the soak's concurrent shoppers and shop operators.
// Each has a random source of its own, seeded from the run's seed.
type client struct {
	n       int
	h       *harness
	rng     *rand.Rand
	seq     int
	holdTTL time.Duration
}

// run loops over random actions until stop is closed; the action under way
// finishes. ctx ends only when the soak is aborted.
func (c *client) run(ctx context.Context, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		c.seq++
		switch p := c.rng.IntN(100); {
		case p < 50:
			c.checkout(ctx, stop)
		case p < 65:
			c.hold(ctx, stop)
		case p < 80:
			c.restock(ctx)
		default:
			c.read(ctx)
		}
		c.pause(stop, 200*time.Millisecond, 800*time.Millisecond)
	}
}

// pause waits a random time from lo to hi, or until stop.
func (c *client) pause(stop <-chan struct{}, lo, hi time.Duration) bool {
	select {
	case <-stop:
		return false
	case <-time.After(lo + time.Duration(c.rng.Int64N(int64(hi-lo)+1))):
		return true
	}
}

// retryable reports whether a request should be sent again, as a careful
// client would with its idempotency key: no answer, a 5xx, or an answer
// that says "not now".
func retryable(a answer, err error) bool {
	return err != nil || a.Status >= 500 || a.Status == http.StatusTooManyRequests ||
		(a.Status == http.StatusConflict && isCode(a, "conflict"))
}

// isCode reports whether the answer's error code is code.
func isCode(a answer, code string) bool {
	var body struct {
		Error string `json:"error"`
	}
	return a.decode(&body) == nil && body.Error == code
}

func (c *client) lines(maxLines int) []map[string]any {
	n := 1 + c.rng.IntN(maxLines)
	out := make([]map[string]any, 0, n)
	used := map[int]bool{}
	for range n {
		sku := c.rng.IntN(skuCount)
		if c.rng.IntN(100) < hotShare {
			sku = 0
		}
		if used[sku] {
			continue
		}
		used[sku] = true
		out = append(out, map[string]any{"sku": skuName(sku), "variantKey": "", "quantity": 1 + c.rng.IntN(3)})
	}
	return out
}

// adjustableShare is the percentage of checkouts with adjustable lines,
// when the service takes them.
const adjustableShare = 40

// adjustRange is what the customer may buy of an adjustable line: from min
// to max units (the hold reserves max).
type adjustRange struct {
	sku      string
	min, max int
}

// checkout creates a checkout session (retrying with the same idempotency
// key after a failure) and then decides the customer's fate: most pay within
// seconds, some try to pay after the hold has lapsed, the rest never pay.
// Some checkouts let the customer pick the quantity of most of their lines.
func (c *client) checkout(ctx context.Context, stop <-chan struct{}) {
	key := fmt.Sprintf("c%02d-%d", c.n, c.seq)
	items := c.lines(2)
	for _, it := range items {
		it["name"], it["unitAmount"], it["currency"] = "Soak item "+it["sku"].(string), 1500, "eur"
	}
	var adjustable []adjustRange
	if c.h.adjustable && c.rng.IntN(100) < adjustableShare {
		for _, it := range items {
			// A third of the lines stay fixed, so carts mix both kinds.
			if c.rng.IntN(3) == 0 {
				continue
			}
			q := it["quantity"].(int)
			r := adjustRange{sku: it["sku"].(string), min: c.rng.IntN(2), max: q + c.rng.IntN(3)}
			it["adjustableQuantity"] = map[string]any{"enabled": true, "minimum": r.min, "maximum": r.max}
			adjustable = append(adjustable, r)
		}
	}
	body := map[string]any{
		"shopId": shopID, "mode": "sale", "idempotencyKey": key, "items": items,
		"successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/cart",
		"clientReferenceId": key,
	}
	for attempt := 0; attempt < 4; attempt++ {
		a, err := c.h.api.call(ctx, "checkout", http.MethodPost, "/api/checkout/sessions", body)
		if err == nil && a.ok() {
			var sess struct {
				ID            string  `json:"id"`
				ReservationID *string `json:"reservationId"`
			}
			if a.decode(&sess) != nil {
				return
			}
			ack := AckedCheckout{Key: key, SessionID: sess.ID}
			if sess.ReservationID != nil {
				ack.HoldID = *sess.ReservationID
			}
			c.h.rec.withAcks(func(acks *Acks) { acks.Checkouts[key] = ack })
			c.customer(sess.ID, adjustable, len(items))
			return
		}
		if !retryable(a, err) || !c.pause(stop, 300*time.Millisecond, time.Second) {
			return
		}
	}
}

// customer schedules what the customer of a session with lines lines, of
// which adjustable may be resized, does. One who comes back after the hold
// has lapsed finds the session expired, unless checkoutd has not expired it
// yet: the hold must still cover the payment then.
func (c *client) customer(sessionID string, adjustable []adjustRange, lines int) {
	var after time.Duration
	late := false
	switch p := c.rng.IntN(100); {
	case p < 65:
		after = time.Duration(c.rng.Int64N(int64(5 * time.Second)))
	case p < 75:
		after, late = c.holdTTL+time.Duration(c.rng.Int64N(int64(10*time.Second))), true
	default:
		return // abandons the cart: the hold lapses, the reaper expires the session
	}
	picked := c.pick(adjustable, lines)
	c.h.schedule(after, func() { c.h.stripe.pay(sessionID, picked, late) })
}

// pick is how many units the customer buys of each adjustable line, by
// lineKey: often the maximum, often something in between, sometimes the
// least allowed (0 drops the line), but never nothing at all, which
// Stripe's page does not allow.
func (c *client) pick(adjustable []adjustRange, lines int) map[string]int64 {
	picked := make(map[string]int64, len(adjustable))
	total := 0
	for _, r := range adjustable {
		q := r.min
		switch p := c.rng.IntN(10); {
		case p < 4:
			q = r.max
		case p < 8:
			q = r.min + c.rng.IntN(r.max-r.min+1)
		}
		picked[lineKey(r.sku, "")] = int64(q)
		total += q
	}
	if total == 0 && len(adjustable) == lines {
		picked[lineKey(adjustable[0].sku, "")] = int64(adjustable[0].max)
	}
	return picked
}

// hold places a short hold through the holds API, then commits it,
// releases it or leaves it to lapse.
func (c *client) hold(ctx context.Context, stop <-chan struct{}) {
	key := fmt.Sprintf("h%02d-%d", c.n, c.seq)
	ttl := 3 + c.rng.IntN(13)
	body := map[string]any{"items": c.lines(1), "ttlSeconds": ttl, "idempotencyKey": key, "reference": key}
	var id string
	for attempt := 0; attempt < 4 && id == ""; attempt++ {
		a, err := c.h.api.call(ctx, "hold", http.MethodPost, shopPath("/holds"), body)
		if err == nil && a.ok() {
			var h struct {
				ID string `json:"id"`
			}
			if a.decode(&h) != nil {
				return
			}
			id = h.ID
			c.h.rec.withAcks(func(acks *Acks) { acks.Holds[id] = AckedHold{ID: id, Key: key} })
			break
		}
		if !retryable(a, err) || !c.pause(stop, 300*time.Millisecond, time.Second) {
			return
		}
	}
	if id == "" {
		return
	}
	action, kind := "", ""
	switch p := c.rng.IntN(100); {
	case p < 35:
		action, kind = "commit", "commit"
	case p < 55:
		action, kind = "release", "release"
	default:
		return
	}
	if !c.pause(stop, 0, time.Second) {
		return
	}
	payload := map[string]any{"reference": "order-" + key}
	if action == "release" {
		payload = map[string]any{"reason": "cart_abandoned"}
	}
	for attempt := 0; attempt < 4; attempt++ {
		a, err := c.h.api.call(ctx, kind, http.MethodPost, shopPath("/holds/"+url.PathEscape(id)+"/"+action), payload)
		if err == nil && a.ok() {
			if action == "commit" {
				c.h.rec.withAcks(func(acks *Acks) {
					h := acks.Holds[id]
					h.Committed = true
					acks.Holds[id] = h
				})
			}
			return
		}
		if !retryable(a, err) || !c.pause(stop, 300*time.Millisecond, time.Second) {
			return
		}
	}
}

// restock adds stock with an idempotency key, retrying the same request
// after every failure (even once the run is over) until it is acknowledged
// or a minute has passed; an acknowledged one is sometimes sent again, as
// a client that lost the answer would.
//
// A third are counted, as a stock take is: the on-hand at default is read
// first, then set to that plus the units with expectedOnHand, so that a
// sale committed in between makes the set stale instead of being
// overwritten. Applied, its movement is the units, as an increment's is. A
// stale one (409 stale_count) wrote nothing and is not retried: it goes
// with the never acknowledged, which the books allow at most one movement
// of the units.
func (c *client) restock(ctx context.Context) {
	key := fmt.Sprintf("a%02d-%d", c.n, c.seq)
	adj := Adjustment{Key: key, SKU: skuName(c.rng.IntN(skuCount)), Quantity: int64(5 + c.rng.IntN(16))}
	change := map[string]any{"sku": adj.SKU, "variantKey": "", "locationId": "default", "op": "increment", "quantity": adj.Quantity, "type": "ADJUSTMENT"}
	if c.rng.IntN(3) == 0 {
		if onHand, ok := c.onHandAtDefault(ctx, adj.SKU); ok {
			change["op"], change["quantity"], change["expectedOnHand"] = "set", onHand+adj.Quantity, onHand
		}
	}
	body := map[string]any{
		"reference": key, "createdBy": "soak", "idempotencyKey": key,
		"changes": []map[string]any{change},
	}
	resend := c.rng.IntN(4) == 0
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		a, err := c.h.api.call(ctx, "adjust", http.MethodPost, shopPath("/adjustments"), body)
		if err == nil && a.ok() {
			c.h.rec.withAcks(func(acks *Acks) { acks.Adjustments[key] = adj })
			if resend {
				_, _ = c.h.api.call(ctx, "adjust", http.MethodPost, shopPath("/adjustments"), body)
			}
			return
		}
		if errors.Is(err, errSoakOver) || (err == nil && !retryable(a, err)) {
			break
		}
		time.Sleep(300*time.Millisecond + time.Duration(c.rng.Int64N(int64(700*time.Millisecond))))
	}
	c.h.rec.withAcks(func(acks *Acks) { acks.Unacked[key] = adj })
}

// onHandAtDefault reads a line's on-hand at the default location, as a
// stock take counts it; false when there is no answer to count from.
func (c *client) onHandAtDefault(ctx context.Context, sku string) (int64, bool) {
	a, err := c.h.api.call(ctx, "read", http.MethodGet, shopPath("/stock/"+sku), nil)
	if err != nil || !a.ok() {
		return 0, false
	}
	var info struct {
		Locations []struct {
			LocationID string `json:"locationId"`
			OnHand     int64  `json:"onHand"`
		} `json:"locations"`
	}
	if a.decode(&info) != nil {
		return 0, false
	}
	for _, l := range info.Locations {
		if l.LocationID == "default" {
			return l.OnHand, true
		}
	}
	return 0, false
}

// read asks for stock the way storefronts do.
func (c *client) read(ctx context.Context) {
	sku := skuName(c.rng.IntN(skuCount))
	if c.rng.IntN(2) == 0 {
		_, _ = c.h.api.call(ctx, "read", http.MethodGet, shopPath("/stock/"+sku), nil)
		return
	}
	_, _ = c.h.api.call(ctx, "read", http.MethodPost, "/api/inventory/validate",
		map[string]any{"shopId": shopID, "items": []map[string]any{{"sku": sku, "variantKey": "", "quantity": 1}}})
}

func shopPath(p string) string { return "/api/inventory/shops/" + shopID + p }
