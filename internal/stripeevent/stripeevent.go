// Package stripeevent builds Stripe events about Checkout Sessions exactly as
// Stripe sends them to a webhook endpoint. `checkoutd stripe send-event` and
// the soak (internal/soak) both sign and deliver what it builds.
package stripeevent

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v79"
)

// SessionState is the status and payment status a session has in an event.
type SessionState struct {
	Status        string
	PaymentStatus string
}

// CheckoutSessionEvents are the checkout.session event types Build knows,
// with the state the session is in when Stripe sends each (the payment
// status is the usual one; completed can also come unpaid for delayed
// payment methods).
var CheckoutSessionEvents = map[stripe.EventType]SessionState{
	stripe.EventTypeCheckoutSessionCompleted:             {"complete", "paid"},
	stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded: {"complete", "paid"},
	stripe.EventTypeCheckoutSessionAsyncPaymentFailed:    {"complete", "unpaid"},
	stripe.EventTypeCheckoutSessionExpired:               {"expired", "unpaid"},
}

// CheckoutSession describes the event to build.
type CheckoutSession struct {
	// Type is one of CheckoutSessionEvents' keys.
	Type stripe.EventType
	// SessionID is the Checkout Session's id (cs_...).
	SessionID string
	// State is the session's status and payment status.
	State SessionState
	// Metadata is the session's metadata, as it was created with.
	Metadata map[string]string
}

// event is an event as Stripe sends it to a webhook endpoint.
type event struct {
	ID              string           `json:"id"`
	Object          string           `json:"object"`
	APIVersion      string           `json:"api_version"`
	Created         int64            `json:"created"`
	Data            eventData        `json:"data"`
	Livemode        bool             `json:"livemode"`
	PendingWebhooks int              `json:"pending_webhooks"`
	Request         eventSource      `json:"request"`
	Type            stripe.EventType `json:"type"`
}

type eventData struct {
	Object session `json:"object"`
}

// eventSource is the API request that caused an event; null fields for
// events Stripe raises itself, as these are.
type eventSource struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// session is the part of a Checkout Session an event carries that checkoutd
// could read.
type session struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	Livemode      bool              `json:"livemode"`
	Metadata      map[string]string `json:"metadata"`
	Mode          string            `json:"mode"`
	PaymentIntent *string           `json:"payment_intent"`
	PaymentStatus string            `json:"payment_status"`
	Status        string            `json:"status"`
}

// Build returns the JSON of a new event about the session, created at now,
// and the event's id. An expired session never got a payment intent; the
// others get a new one.
func Build(s CheckoutSession, now time.Time) ([]byte, string, error) {
	var paymentIntent *string
	if s.Type != stripe.EventTypeCheckoutSessionExpired {
		pi := NewID("pi_")
		paymentIntent = &pi
	}
	metadata := s.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	ev := event{
		ID: NewID("evt_"), Object: "event", APIVersion: stripe.APIVersion, Created: now.Unix(),
		Data: eventData{Object: session{
			ID: s.SessionID, Object: "checkout.session", Metadata: metadata, Mode: "payment",
			PaymentIntent: paymentIntent, PaymentStatus: s.State.PaymentStatus, Status: s.State.Status,
		}},
		PendingWebhooks: 1,
		Type:            s.Type,
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return nil, "", fmt.Errorf("encode event: %w", err)
	}
	return b, ev.ID, nil
}

// NewID returns prefix and 24 random letters and digits, the shape of
// Stripe's ids.
func NewID(prefix string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}
