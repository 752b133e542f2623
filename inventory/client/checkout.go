package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// CheckoutRequest asks CreateCheckoutSession for a Stripe Checkout Session
// of Items, its stock held or checked as the server's INVENTORY_MODE says.
// Everything after ClientReferenceID is optional; docs/checkout.md says what
// each field becomes in Stripe's request, and the server refuses (400, one
// FieldIssue per field) any combination Stripe would, before any stock is
// held.
type CheckoutRequest struct {
	ShopID string `json:"shopId"`
	// Mode is "sale" or "rental".
	Mode           string         `json:"mode"`
	IdempotencyKey string         `json:"idempotencyKey,omitempty"`
	Items          []CheckoutItem `json:"items"`
	// SuccessURL and CancelURL are for hosted Checkout (the default);
	// embedded Checkout takes ReturnURL instead.
	SuccessURL        string `json:"successUrl,omitempty"`
	CancelURL         string `json:"cancelUrl,omitempty"`
	CustomerEmail     string `json:"customerEmail,omitempty"`
	ClientReferenceID string `json:"clientReferenceId,omitempty"`
	// CustomerKey names the buyer for per-customer purchase limits, as
	// HoldRequest.CustomerKey; without it the lowercased CustomerEmail
	// stands in.
	CustomerKey string `json:"customerKey,omitempty"`
	// HoldID adopts a hold placed from the cart (SetHoldItems) as the
	// checkout's reservation instead of placing another: its lines become
	// Items and it is bound to the session. Unknown: CodeNotFound; not
	// active: CodeHoldNotActive; another checkout's: CodeHoldInCheckout.
	HoldID string `json:"holdId,omitempty"`
	// RentalDueAt, of a "rental" checkout, is when its units are due back
	// (in the future); the paid rental is then on ListRentals.
	RentalDueAt *time.Time `json:"rentalDueAt,omitempty"`

	// UIMode is "hosted" (the default) or "embedded", answered with a
	// ClientSecret for Stripe.js instead of a URL.
	UIMode string `json:"uiMode,omitempty"`
	// ReturnURL is where embedded Checkout sends the customer; it may
	// contain {CHECKOUT_SESSION_ID}.
	ReturnURL string `json:"returnUrl,omitempty"`
	// Locale is "auto" or a Stripe Checkout locale such as "de".
	Locale string `json:"locale,omitempty"`
	// Customer is an existing Stripe customer (cus_...); not with
	// CustomerEmail.
	Customer            string `json:"customer,omitempty"`
	AllowPromotionCodes bool   `json:"allowPromotionCodes,omitempty"`
	// Discounts holds at most one coupon or promotion code; not with
	// AllowPromotionCodes.
	Discounts                 []Discount                 `json:"discounts,omitempty"`
	ShippingAddressCollection *ShippingAddressCollection `json:"shippingAddressCollection,omitempty"`
	// ShippingRates are up to 5 Stripe shipping rate ids (shr_...).
	ShippingRates []string `json:"shippingRates,omitempty"`
	AutomaticTax  *Toggle  `json:"automaticTax,omitempty"`
	// BillingAddressCollection is "auto" or "required".
	BillingAddressCollection string  `json:"billingAddressCollection,omitempty"`
	PhoneNumberCollection    *Toggle `json:"phoneNumberCollection,omitempty"`
	// PaymentMethodTypes are Stripe's names, such as "card" or "klarna".
	PaymentMethodTypes []string `json:"paymentMethodTypes,omitempty"`
	// Metadata is the shop's own, merged into the session's and the
	// PaymentIntent's. shop_id and keys starting inventory_, checkout_ or
	// checkoutd_ are the server's and refused.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// CheckoutItem is one line of a checkout: the stock it takes, and its price
// as a Stripe price id (Price) or inline (Name, UnitAmount in minor units,
// Currency), never both.
type CheckoutItem struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Quantity   int64  `json:"quantity"`
	Name       string `json:"name,omitempty"`
	UnitAmount *int64 `json:"unitAmount,omitempty"`
	Currency   string `json:"currency,omitempty"`
	Price      string `json:"price,omitempty"`
	// Description and Images (up to 8 https URLs) are shown on Stripe's
	// page; inline prices only.
	Description string   `json:"description,omitempty"`
	Images      []string `json:"images,omitempty"`
	// AdjustableQuantity lets the customer change Quantity on Stripe's
	// page; a reserve_ttl hold then covers its Maximum.
	AdjustableQuantity *AdjustableQuantity `json:"adjustableQuantity,omitempty"`
}

// AdjustableQuantity lets the customer pick a quantity from Minimum
// (default 0) to Maximum (required, at most 999) on Stripe's page.
type AdjustableQuantity struct {
	Enabled bool   `json:"enabled"`
	Minimum *int64 `json:"minimum,omitempty"`
	Maximum *int64 `json:"maximum,omitempty"`
}

// Discount is one coupon or one promotion code (promo_...).
type Discount struct {
	Coupon        string `json:"coupon,omitempty"`
	PromotionCode string `json:"promotionCode,omitempty"`
}

// ShippingAddressCollection asks for a shipping address in one of
// AllowedCountries (ISO 3166-1 alpha-2, such as "DE").
type ShippingAddressCollection struct {
	AllowedCountries []string `json:"allowedCountries"`
}

// Toggle switches one of Stripe's collections on.
type Toggle struct {
	Enabled bool `json:"enabled"`
}

// CheckoutSession is the Stripe Checkout Session created, and the hold
// placed for it.
type CheckoutSession struct {
	// ID is the Stripe Checkout Session id (cs_...).
	ID string `json:"id"`
	// URL is where a hosted session's customer pays; nil when embedded.
	URL *string `json:"url"`
	// InventoryMode is the server's INVENTORY_MODE: validate_only or
	// reserve_ttl.
	InventoryMode string `json:"inventoryMode"`
	// ReservationID is the hold placed for the session (reserve_ttl); nil
	// when nothing was held.
	ReservationID *string `json:"reservationId"`
	// ExpiresAt is when the Stripe session expires.
	ExpiresAt time.Time `json:"expiresAt"`
	// UIMode is "hosted" or "embedded".
	UIMode string `json:"uiMode"`
	// ClientSecret mounts an embedded session with Stripe.js
	// (initEmbeddedCheckout); nil when hosted.
	ClientSecret *string `json:"clientSecret"`
}

// CreateCheckoutSession creates a Stripe Checkout Session for req. With an
// IdempotencyKey, a repeat of the same request returns the first session,
// so a timed-out call can be retried safely. Not enough stock is an
// *APIError with CodeInsufficientStock whose Items say what is missing; a
// request Stripe would refuse is CodeInvalidRequest with one of Details per
// field. Stripe failing (502, any stock held was released) is
// ErrUnavailable, like every 5xx: no session was made.
func (c *Client) CreateCheckoutSession(ctx context.Context, req CheckoutRequest) (*CheckoutSession, error) {
	op := fmt.Sprintf("create checkout session in shop %q", req.ShopID)
	var sess CheckoutSession
	if err := c.callRoot(ctx, op, http.MethodPost, "/api/checkout/sessions", nil, req, &sess); err != nil {
		return nil, err
	}
	return &sess, nil
}
