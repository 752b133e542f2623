package checkout

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/pgtext"
	"github.com/checkoutd/checkoutd/inventory"
)

// Item is one line of a checkout: what stock it takes and what the customer
// pays for it. Price (a Stripe price id) or Name, UnitAmount and Currency
// describe the payment; amounts are integer minor units, never floats.
type Item struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Quantity   int64  `json:"quantity"`
	Name       string `json:"name,omitempty"`
	UnitAmount *int64 `json:"unitAmount,omitempty"`
	Currency   string `json:"currency,omitempty"`
	Price      string `json:"price,omitempty"`
	// Description and Images are shown on Stripe's page (inline prices
	// only: a price id's product has its own).
	Description string   `json:"description,omitempty"`
	Images      []string `json:"images,omitempty"`
	// AdjustableQuantity lets the customer change Quantity on Stripe's
	// page; the hold then covers its Maximum.
	AdjustableQuantity *AdjustableQuantity `json:"adjustableQuantity,omitempty"`
}

// held is how many units the item's hold or check covers: its maximum when
// the customer may raise the quantity on Stripe's page.
func (it Item) held() int64 {
	if a := it.AdjustableQuantity; a != nil && a.Enabled && a.Maximum != nil {
		return *a.Maximum
	}
	return it.Quantity
}

// adjustable reports whether the customer may change the item's quantity.
func (it Item) adjustable() bool {
	return it.AdjustableQuantity != nil && it.AdjustableQuantity.Enabled
}

// Request asks for a checkout session.
type Request struct {
	ShopID string `json:"shopId"`
	// Mode is "sale" or "rental".
	Mode              string `json:"mode"`
	IdempotencyKey    string `json:"idempotencyKey"`
	Items             []Item `json:"items"`
	SuccessURL        string `json:"successUrl"`
	CancelURL         string `json:"cancelUrl"`
	CustomerEmail     string `json:"customerEmail"`
	ClientReferenceID string `json:"clientReferenceId"`

	// HoldID, when set, is a hold the shop placed from the cart: the
	// checkout adopts it as its reservation, its lines set to Items, instead
	// of placing one of its own. Omitted from JSON when unset, for the same
	// reason as the options below.
	HoldID string `json:"holdId,omitempty"`
	// RentalDueAt, of a rental, is when its units are due back, as RFC 3339
	// text: a string, not a time.Time, so that the request keeps decoding in
	// one pass (a field that decodes itself takes the slow path). Recorded
	// on its hold, it puts the paid rental on the rentals list
	// (inventory.ListRentals). Omitted from JSON when unset, as HoldID is.
	RentalDueAt string `json:"rentalDueAt,omitempty"`

	// The Stripe Checkout options below are all optional; docs/checkout.md
	// lists what each becomes in Stripe's request. They are omitted from
	// JSON when unset so that a request without them hashes as it did
	// before they existed (idempotency keys survive an upgrade).

	// UIMode is UIModeHosted (the default) or UIModeEmbedded, which takes
	// ReturnURL instead of SuccessURL and CancelURL.
	UIMode    string `json:"uiMode,omitempty"`
	ReturnURL string `json:"returnUrl,omitempty"`
	// Locale is auto or a Stripe Checkout locale (de, fr, pt-BR, …).
	Locale string `json:"locale,omitempty"`
	// Customer is an existing Stripe customer (cus_...); not with
	// CustomerEmail.
	Customer                  string                     `json:"customer,omitempty"`
	AllowPromotionCodes       bool                       `json:"allowPromotionCodes,omitempty"`
	Discounts                 []Discount                 `json:"discounts,omitempty"`
	ShippingAddressCollection *ShippingAddressCollection `json:"shippingAddressCollection,omitempty"`
	// ShippingRates are Stripe shipping rate ids (shr_...) offered on the page.
	ShippingRates            []string `json:"shippingRates,omitempty"`
	AutomaticTax             *Toggle  `json:"automaticTax,omitempty"`
	BillingAddressCollection string   `json:"billingAddressCollection,omitempty"`
	PhoneNumberCollection    *Toggle  `json:"phoneNumberCollection,omitempty"`
	PaymentMethodTypes       []string `json:"paymentMethodTypes,omitempty"`
	// Metadata is the shop's own, merged into the session's and the
	// PaymentIntent's metadata beside checkoutd's keys, which it may not
	// set.
	Metadata map[string]string `json:"metadata,omitempty"`
	// CustomerKey names the buyer for the lines' per-customer purchase
	// limits (inventory.ReserveRequest.CustomerKey); without it the
	// lowercased CustomerEmail stands in.
	CustomerKey string `json:"customerKey,omitempty"`
}

// customerKey is the key the checkout's hold counts against per-customer
// limits under: CustomerKey, else the email lowercased, since the same
// inbox typed in another case is the same buyer. An email longer than a
// customer key may be stands in by its SHA-256, as a shop would hash it.
func (r Request) customerKey() string {
	if r.CustomerKey != "" {
		return r.CustomerKey
	}
	email := strings.ToLower(r.CustomerEmail)
	if utf8.RuneCountInString(email) > inventory.MaxCustomerKeyLen {
		sum := sha256.Sum256([]byte(email))
		return hex.EncodeToString(sum[:])
	}
	return email
}

// Limits on a request beyond the inventory's own.
const (
	maxUnitAmount = 99_999_999 // Stripe's limit for most currencies
	maxNameLen    = 250
	maxTextLen    = 255
	maxURLLen     = 2048
)

var (
	currencyPattern = regexp.MustCompile(`^[a-z]{3}$`)
	pricePattern    = regexp.MustCompile(`^price_[A-Za-z0-9]{1,250}$`)
	emailPattern    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// validate checks the request, the inventory rules included, and returns an
// *checkoutd.ValidationError naming every field that is wrong.
func (r Request) validate() error {
	var is issues
	if !checkoutd.ValidShopID(r.ShopID) {
		is.add("shopId", checkoutd.IDIssue)
	}
	if r.Mode != "sale" && r.Mode != "rental" {
		is.add("mode", "must be sale or rental")
	}
	if len(r.IdempotencyKey) > maxTextLen {
		is.add("idempotencyKey", "must be at most %d characters", maxTextLen)
	}
	if len(r.HoldID) > maxTextLen {
		is.add("holdId", "must be at most %d characters", maxTextLen)
	}
	if len(r.ClientReferenceID) > 200 {
		is.add("clientReferenceId", "must be at most 200 characters")
	}
	if r.CustomerEmail != "" && (len(r.CustomerEmail) > maxTextLen || !emailPattern.MatchString(r.CustomerEmail)) {
		is.add("customerEmail", "must be an email address")
	}
	if r.CustomerKey != "" && !inventory.ValidCustomerKey(r.CustomerKey) {
		is.add("customerKey", "must be 1 to %d printable characters", inventory.MaxCustomerKeyLen)
	}
	for _, t := range []struct{ field, value string }{
		{"idempotencyKey", r.IdempotencyKey}, {"clientReferenceId", r.ClientReferenceID}, {"customerEmail", r.CustomerEmail}, {"holdId", r.HoldID},
	} {
		if !pgtext.Valid(t.value) {
			is.add(t.field, pgtext.Issue)
		}
	}
	r.validateOptions(&is)
	currency := ""
	adjustableLines := map[inventory.Line]int{}
	for i, it := range r.Items {
		f := fmt.Sprintf("items[%d]", i)
		it.validateItemOptions(f, &is)
		if !pgtext.Valid(it.Name) {
			is.add(f+".name", pgtext.Issue)
		}
		if it.adjustable() {
			// The settler matches Stripe's line items to lines by SKU and
			// variant: a resizable line must be the only one of its stock.
			adjustableLines[inventory.Line{SKU: it.SKU, VariantKey: it.VariantKey}] = i
		}
		if it.Price != "" {
			if !pricePattern.MatchString(it.Price) {
				is.add(f+".price", "must be a Stripe price id (price_...)")
			}
			if it.Name != "" || it.UnitAmount != nil || it.Currency != "" {
				is.add(f+".price", "cannot be combined with name, unitAmount or currency")
			}
			continue
		}
		if it.Name == "" || len([]rune(it.Name)) > maxNameLen {
			is.add(f+".name", "must be 1-%d characters (or give a price id)", maxNameLen)
		}
		if it.UnitAmount == nil || *it.UnitAmount < 0 || *it.UnitAmount > maxUnitAmount {
			is.add(f+".unitAmount", "must be an integer amount in minor units from 0 to %d", maxUnitAmount)
		}
		switch {
		case !currencyPattern.MatchString(it.Currency):
			is.add(f+".currency", "must be a lowercase ISO 4217 code such as eur")
		case currency == "":
			currency = it.Currency
		case it.Currency != currency:
			is.add(f+".currency", "must be %s like the other items: a session is paid in one currency", currency)
		}
	}
	for i, it := range r.Items {
		line := inventory.Line{SKU: it.SKU, VariantKey: it.VariantKey}
		if j, ok := adjustableLines[line]; ok && j != i {
			is.add(fmt.Sprintf("items[%d]", max(i, j)), "repeats the line of adjustable items[%d]: give a resizable line once", min(i, j))
		}
	}
	if r.RentalDueAt != "" {
		due, ok := r.rentalDue()
		switch {
		case !ok:
			is.add("rentalDueAt", "must be an RFC 3339 time such as 2026-11-09T10:00:00Z")
		case r.Mode != "rental":
			is.add("rentalDueAt", "is for mode rental only")
		case !due.After(time.Now()):
			is.add("rentalDueAt", "must be in the future")
		}
	}
	var verr *checkoutd.ValidationError
	if errors.As(inventory.ValidateLines("items", inventoryLines(r.storedLines())), &verr) {
		is = append(is, verr.Details...)
	}
	if len(is) > 0 {
		return &checkoutd.ValidationError{Details: is}
	}
	return nil
}

func absoluteURL(s string) bool {
	if s == "" || len(s) > maxURLLen {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// storedLines is what the checkout's record keeps of its items: the stock
// each takes (the maximum of an adjustable one) and how to match it to the
// session's line items when it is paid.
func (r Request) storedLines() []storedLine {
	lines := make([]storedLine, len(r.Items))
	for i, it := range r.Items {
		lines[i] = storedLine{SKU: it.SKU, VariantKey: it.VariantKey, Quantity: it.held(), Price: it.Price}
		if it.adjustable() {
			lines[i].Adjustable = true
			lines[i].Minimum = it.AdjustableQuantity.minimum()
		}
	}
	return lines
}

// rentalDue is RentalDueAt parsed, in whole seconds as the API shows times;
// false when it is unset or not RFC 3339.
func (r Request) rentalDue() (time.Time, bool) {
	if r.RentalDueAt == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, r.RentalDueAt)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Second), true
}
