package checkout

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"

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
	var issues []checkoutd.FieldIssue
	add := func(field, format string, args ...any) {
		issues = append(issues, checkoutd.FieldIssue{Field: field, Issue: fmt.Sprintf(format, args...)})
	}
	if !checkoutd.ValidShopID(r.ShopID) {
		add("shopId", checkoutd.IDIssue)
	}
	if r.Mode != "sale" && r.Mode != "rental" {
		add("mode", "must be sale or rental")
	}
	if len(r.IdempotencyKey) > maxTextLen {
		add("idempotencyKey", "must be at most %d characters", maxTextLen)
	}
	if len(r.ClientReferenceID) > 200 {
		add("clientReferenceId", "must be at most 200 characters")
	}
	if r.CustomerEmail != "" && (len(r.CustomerEmail) > maxTextLen || !emailPattern.MatchString(r.CustomerEmail)) {
		add("customerEmail", "must be an email address")
	}
	for _, u := range []struct{ field, value string }{{"successUrl", r.SuccessURL}, {"cancelUrl", r.CancelURL}} {
		if !absoluteURL(u.value) {
			add(u.field, "must be an absolute http or https URL")
		}
	}
	for _, t := range []struct{ field, value string }{
		{"idempotencyKey", r.IdempotencyKey}, {"clientReferenceId", r.ClientReferenceID}, {"customerEmail", r.CustomerEmail},
	} {
		if !pgtext.Valid(t.value) {
			add(t.field, pgtext.Issue)
		}
	}
	lines := make([]inventory.Line, len(r.Items))
	for i, it := range r.Items {
		lines[i] = inventory.Line{SKU: it.SKU, VariantKey: it.VariantKey, Quantity: it.Quantity}
		f := fmt.Sprintf("items[%d]", i)
		if !pgtext.Valid(it.Name) {
			add(f+".name", pgtext.Issue)
		}
		if it.Price != "" {
			if !pricePattern.MatchString(it.Price) {
				add(f+".price", "must be a Stripe price id (price_...)")
			}
			if it.Name != "" || it.UnitAmount != nil || it.Currency != "" {
				add(f+".price", "cannot be combined with name, unitAmount or currency")
			}
			continue
		}
		if it.Name == "" || len([]rune(it.Name)) > maxNameLen {
			add(f+".name", "must be 1-%d characters (or give a price id)", maxNameLen)
		}
		if it.UnitAmount == nil || *it.UnitAmount < 0 || *it.UnitAmount > maxUnitAmount {
			add(f+".unitAmount", "must be an integer amount in minor units from 0 to %d", maxUnitAmount)
		}
		if !currencyPattern.MatchString(it.Currency) {
			add(f+".currency", "must be a lowercase ISO 4217 code such as eur")
		}
	}
	var verr *checkoutd.ValidationError
	if errors.As(inventory.ValidateLines("items", lines), &verr) {
		issues = append(issues, verr.Details...)
	}
	if len(issues) > 0 {
		return &checkoutd.ValidationError{Details: issues}
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

// lines returns the stock the request takes.
func (r Request) lines() []inventory.Line {
	lines := make([]inventory.Line, len(r.Items))
	for i, it := range r.Items {
		lines[i] = inventory.Line{SKU: it.SKU, VariantKey: it.VariantKey, Quantity: it.Quantity}
	}
	return lines
}
