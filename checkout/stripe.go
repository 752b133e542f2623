package checkout

import (
	"maps"
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
// first and becomes expiring: it keeps its stock while the reaper asks
// Stripe to expire the session, so a customer who pays meanwhile is covered.
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

// sessionParams builds the Stripe request for a checkout. The shop's
// metadata goes first so that checkoutd's keys, which validate keeps it
// from naming, are the last word on the session and the PaymentIntent.
func sessionParams(req Request, checkoutID, holdID string, expiresAt time.Time) *stripe.CheckoutSessionParams {
	metadata := maps.Clone(req.Metadata)
	if metadata == nil {
		metadata = map[string]string{}
	}
	maps.Copy(metadata, SessionMetadata(req.ShopID, checkoutID, req.Mode, holdID))
	p := &stripe.CheckoutSessionParams{
		Mode:      stripe.String(string(stripe.CheckoutSessionModePayment)),
		ExpiresAt: stripe.Int64(expiresAt.Unix()),
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{
			Metadata: metadata,
		},
		Metadata: maps.Clone(metadata),
	}
	if req.uiMode() == UIModeEmbedded {
		p.UIMode = stripe.String(string(stripe.CheckoutSessionUIModeEmbedded))
		p.ReturnURL = stripe.String(req.ReturnURL)
	} else {
		p.SuccessURL = stripe.String(req.SuccessURL)
		p.CancelURL = stripe.String(req.CancelURL)
	}
	optionalString(&p.ClientReferenceID, req.ClientReferenceID)
	optionalString(&p.CustomerEmail, req.CustomerEmail)
	optionalString(&p.Customer, req.Customer)
	optionalString(&p.Locale, req.Locale)
	optionalString(&p.BillingAddressCollection, req.BillingAddressCollection)
	if req.AllowPromotionCodes {
		p.AllowPromotionCodes = stripe.Bool(true)
	}
	for _, d := range req.Discounts {
		dp := &stripe.CheckoutSessionDiscountParams{}
		optionalString(&dp.Coupon, d.Coupon)
		optionalString(&dp.PromotionCode, d.PromotionCode)
		p.Discounts = append(p.Discounts, dp)
	}
	if c := req.ShippingAddressCollection; c != nil {
		p.ShippingAddressCollection = &stripe.CheckoutSessionShippingAddressCollectionParams{AllowedCountries: stripe.StringSlice(c.AllowedCountries)}
	}
	for _, rate := range req.ShippingRates {
		p.ShippingOptions = append(p.ShippingOptions, &stripe.CheckoutSessionShippingOptionParams{ShippingRate: stripe.String(rate)})
	}
	if t := req.AutomaticTax; t != nil {
		p.AutomaticTax = &stripe.CheckoutSessionAutomaticTaxParams{Enabled: stripe.Bool(t.Enabled)}
		if t.Enabled && req.Customer != "" {
			// Stripe computes tax from the customer's address, and refuses
			// an existing customer without one unless the page may save
			// what the customer enters.
			p.CustomerUpdate = &stripe.CheckoutSessionCustomerUpdateParams{Address: stripe.String("auto")}
			if req.ShippingAddressCollection != nil {
				p.CustomerUpdate.Shipping = stripe.String("auto")
			}
		}
	}
	if t := req.PhoneNumberCollection; t != nil {
		p.PhoneNumberCollection = &stripe.CheckoutSessionPhoneNumberCollectionParams{Enabled: stripe.Bool(t.Enabled)}
	}
	if len(req.PaymentMethodTypes) > 0 {
		p.PaymentMethodTypes = stripe.StringSlice(req.PaymentMethodTypes)
	}
	for _, it := range req.Items {
		p.LineItems = append(p.LineItems, lineItemParams(it))
	}
	p.SetIdempotencyKey(sessionIdempotencyKey(checkoutID, holdID))
	return p
}

// lineItemParams is the Stripe line item of it: priced by id or inline,
// with the stock line in the product's metadata so that the session's line
// items can be matched back to the checkout's lines.
func lineItemParams(it Item) *stripe.CheckoutSessionLineItemParams {
	li := &stripe.CheckoutSessionLineItemParams{Quantity: stripe.Int64(it.Quantity)}
	if a := it.AdjustableQuantity; it.adjustable() {
		li.AdjustableQuantity = &stripe.CheckoutSessionLineItemAdjustableQuantityParams{
			Enabled: stripe.Bool(true), Minimum: stripe.Int64(a.minimum()), Maximum: a.Maximum,
		}
	}
	if it.Price != "" {
		li.Price = stripe.String(it.Price)
		return li
	}
	product := &stripe.CheckoutSessionLineItemPriceDataProductDataParams{
		Name: stripe.String(it.Name),
		Metadata: map[string]string{
			"sku":         it.SKU,
			"variant_key": it.VariantKey,
		},
	}
	optionalString(&product.Description, it.Description)
	if len(it.Images) > 0 {
		product.Images = stripe.StringSlice(it.Images)
	}
	li.PriceData = &stripe.CheckoutSessionLineItemPriceDataParams{
		Currency:    stripe.String(it.Currency),
		UnitAmount:  stripe.Int64(*it.UnitAmount),
		ProductData: product,
	}
	return li
}

// optionalString sets *dst to v unless v is empty: Stripe treats a field
// sent empty differently from one not sent.
func optionalString(dst **string, v string) {
	if v != "" {
		*dst = stripe.String(v)
	}
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
