package checkout

import (
	"time"

	"github.com/stripe/stripe-go/v79"
)

// Stripe refuses a session that expires sooner than 30 minutes after it is
// created, or later than 24 hours.
const (
	stripeMinSessionLife = 30 * time.Minute
	stripeMaxSessionLife = 24 * time.Hour
	// sessionLifeMargin keeps the expiry clear of the minimum despite clock
	// skew and the time the request takes to reach Stripe.
	sessionLifeMargin = 2 * time.Minute
)

// sessionExpiry is when the Stripe session should expire: when the hold
// does, but no sooner than Stripe allows. A hold shorter than that lapses
// first, and the reaper then expires the session so nobody pays for stock
// that was released.
func sessionExpiry(now, holdExpiresAt time.Time) time.Time {
	earliest := now.Add(stripeMinSessionLife + sessionLifeMargin)
	latest := now.Add(stripeMaxSessionLife - sessionLifeMargin)
	exp := holdExpiresAt
	if exp.Before(earliest) {
		exp = earliest
	}
	if exp.After(latest) {
		exp = latest
	}
	return exp.Truncate(time.Second)
}

// sessionParams builds the Stripe request for a checkout.
func sessionParams(req Request, checkoutID, holdID string, expiresAt time.Time) *stripe.CheckoutSessionParams {
	metadata := SessionMetadata(req.ShopID, checkoutID, req.Mode, holdID)
	p := &stripe.CheckoutSessionParams{
		Mode:       stripe.String(string(stripe.CheckoutSessionModePayment)),
		SuccessURL: stripe.String(req.SuccessURL),
		CancelURL:  stripe.String(req.CancelURL),
		ExpiresAt:  stripe.Int64(expiresAt.Unix()),
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{
			Metadata: metadata,
		},
	}
	for k, v := range metadata {
		p.AddMetadata(k, v)
	}
	if req.ClientReferenceID != "" {
		p.ClientReferenceID = stripe.String(req.ClientReferenceID)
	}
	if req.CustomerEmail != "" {
		p.CustomerEmail = stripe.String(req.CustomerEmail)
	}
	for _, it := range req.Items {
		li := &stripe.CheckoutSessionLineItemParams{Quantity: stripe.Int64(it.Quantity)}
		if it.Price != "" {
			li.Price = stripe.String(it.Price)
		} else {
			li.PriceData = &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:   stripe.String(it.Currency),
				UnitAmount: stripe.Int64(*it.UnitAmount),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{
					Name: stripe.String(it.Name),
					Metadata: map[string]string{
						"sku":         it.SKU,
						"variant_key": it.VariantKey,
					},
				},
			}
		}
		p.LineItems = append(p.LineItems, li)
	}
	p.SetIdempotencyKey(sessionIdempotencyKey(checkoutID, holdID))
	return p
}

// sessionIdempotencyKey is derived from the hold (from the checkout when
// there is none), so a retried or replayed request never creates a second
// session for the same stock.
func sessionIdempotencyKey(checkoutID, holdID string) string {
	if holdID != "" {
		return "checkoutd-session-" + holdID
	}
	return "checkoutd-session-" + checkoutID
}
