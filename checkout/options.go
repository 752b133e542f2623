package checkout

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/pgtext"
)

// The Checkout page's modes (Request.UIMode).
const (
	// UIModeHosted sends the customer to Stripe's page (the session's url).
	UIModeHosted = "hosted"
	// UIModeEmbedded mounts Stripe's page in the shop's own with Stripe.js
	// and the session's client secret.
	UIModeEmbedded = "embedded"
)

// Toggle switches one of Stripe's collections on ({"enabled": true}).
type Toggle struct {
	Enabled bool `json:"enabled"`
}

// Discount is one coupon or promotion code applied to the session: exactly
// one of the two is set.
type Discount struct {
	Coupon        string `json:"coupon,omitempty"`
	PromotionCode string `json:"promotionCode,omitempty"`
}

// ShippingAddressCollection asks Stripe's page for a shipping address in one
// of AllowedCountries (ISO 3166-1 alpha-2 codes).
type ShippingAddressCollection struct {
	AllowedCountries []string `json:"allowedCountries"`
}

// AdjustableQuantity lets the customer change a line's quantity on Stripe's
// page, within Minimum and Maximum. A reserve_ttl hold reserves Maximum, so
// whatever the customer picks is covered, and the settler commits what
// Stripe reports was bought.
type AdjustableQuantity struct {
	Enabled bool `json:"enabled"`
	// Minimum is the least the customer may pick (default 0: the line may
	// be dropped).
	Minimum *int64 `json:"minimum,omitempty"`
	// Maximum is the most the customer may pick, and what the hold
	// reserves. Required: it decides how much stock the checkout takes.
	Maximum *int64 `json:"maximum,omitempty"`
}

// minimum is the least quantity of an enabled AdjustableQuantity.
func (a *AdjustableQuantity) minimum() int64 {
	if a.Minimum == nil {
		return 0
	}
	return *a.Minimum
}

// Limits of the options, Stripe's where it has them.
const (
	maxAdjustableQuantity = 999
	maxMetadataKeys       = 20
	maxMetadataKeyLen     = 40
	maxMetadataValueLen   = 500
	maxShippingRates      = 5
	maxPaymentMethodTypes = 20
	maxAllowedCountries   = 50
	maxImages             = 8
	maxDescriptionLen     = 5000
)

var (
	customerPattern          = regexp.MustCompile(`^cus_[A-Za-z0-9]{1,250}$`)
	couponPattern            = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)
	promotionCodePattern     = regexp.MustCompile(`^promo_[A-Za-z0-9]{1,250}$`)
	shippingRatePattern      = regexp.MustCompile(`^shr_[A-Za-z0-9]{1,250}$`)
	paymentMethodTypePattern = regexp.MustCompile(`^[a-z_]{1,40}$`)
)

// stripeLocales are the locales Stripe Checkout accepts (its API's enum).
var stripeLocales = setOf("auto bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hr hu id it ja ko lt lv ms mt nb nl pl pt pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW")

// shippingCountries are the countries Stripe Checkout ships to (its API's
// enum for shipping_address_collection.allowed_countries): a few ISO codes
// (AS, CU, IR, KP, …) are not among them and Stripe refuses them.
var shippingCountries = setOf("AC AD AE AF AG AI AL AM AO AQ AR AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CD CF CG CH CI CK CL CM CN CO CR CV CW CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HN HR HT HU ID IE IL IM IN IO IQ IS IT JE JM JO JP KE KG KH KI KM KN KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MK ML MM MN MO MQ MR MS MT MU MV MW MX MY MZ NA NC NE NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PY QA " +
	"RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SZ TA TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG US UY UZ VA VC VE VG VN VU WF WS XK YE YT ZA ZM ZW ZZ")

func setOf(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

// reservedMetadataKey reports whether key is one of checkoutd's own
// metadata keys, which a shop's metadata may not set: the webhooks find the
// checkout and its hold by them.
func reservedMetadataKey(key string) bool {
	if key == "shop_id" {
		return true
	}
	for _, prefix := range []string{"inventory_", "checkout_", "checkoutd_"} {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}

// issues collects what is wrong with a request, one entry per field.
type issues []checkoutd.FieldIssue

func (is *issues) add(field, format string, args ...any) {
	*is = append(*is, checkoutd.FieldIssue{Field: field, Issue: fmt.Sprintf(format, args...)})
}

// validateOptions checks the Stripe Checkout options of r: each field on its
// own and every combination Stripe refuses, so that Stripe is never asked
// for a session it would turn down after the stock was held.
func (r Request) validateOptions(is *issues) {
	switch r.uiMode() {
	case UIModeHosted:
		for _, u := range []struct{ field, value string }{{"successUrl", r.SuccessURL}, {"cancelUrl", r.CancelURL}} {
			if !absoluteURL(u.value) {
				is.add(u.field, "must be an absolute http or https URL")
			}
		}
		if r.ReturnURL != "" {
			is.add("returnUrl", "is only for uiMode embedded; hosted Checkout uses successUrl and cancelUrl")
		}
	case UIModeEmbedded:
		if !absoluteURL(r.ReturnURL) {
			is.add("returnUrl", "must be an absolute http or https URL (it may contain {CHECKOUT_SESSION_ID}); embedded Checkout needs it")
		}
		if r.SuccessURL != "" {
			is.add("successUrl", "is not allowed with uiMode embedded: give returnUrl")
		}
		if r.CancelURL != "" {
			is.add("cancelUrl", "is not allowed with uiMode embedded: the customer never leaves the shop's page")
		}
	default:
		is.add("uiMode", "must be hosted or embedded")
	}
	if r.Locale != "" && !stripeLocales[r.Locale] {
		is.add("locale", "must be auto or a locale Stripe Checkout supports, such as de, fr or pt-BR")
	}
	if r.Customer != "" {
		if !customerPattern.MatchString(r.Customer) {
			is.add("customer", "must be a Stripe customer id (cus_...)")
		}
		if r.CustomerEmail != "" {
			is.add("customer", "cannot be combined with customerEmail: Stripe takes the email from the customer")
		}
	}
	if len(r.Discounts) > 0 && r.AllowPromotionCodes {
		is.add("discounts", "cannot be combined with allowPromotionCodes")
	}
	if len(r.Discounts) > 1 {
		is.add("discounts", "must have at most one entry: Stripe applies one coupon or promotion code to a session")
	}
	for i, d := range r.Discounts {
		f := fmt.Sprintf("discounts[%d]", i)
		switch {
		case (d.Coupon == "") == (d.PromotionCode == ""):
			is.add(f, "must have exactly one of coupon and promotionCode")
		case d.Coupon != "" && !couponPattern.MatchString(d.Coupon):
			is.add(f+".coupon", "must be a coupon id: 1-200 letters, digits, _ or -")
		case d.PromotionCode != "" && !promotionCodePattern.MatchString(d.PromotionCode):
			is.add(f+".promotionCode", "must be a Stripe promotion code id (promo_...)")
		}
	}
	if c := r.ShippingAddressCollection; c != nil {
		if n := len(c.AllowedCountries); n < 1 || n > maxAllowedCountries {
			is.add("shippingAddressCollection.allowedCountries", "must have 1-%d entries", maxAllowedCountries)
		}
		for i, country := range c.AllowedCountries {
			if !shippingCountries[country] {
				is.add(fmt.Sprintf("shippingAddressCollection.allowedCountries[%d]", i), "must be an ISO 3166-1 alpha-2 code Stripe ships to, in capitals, such as DE")
			} else if slices.Index(c.AllowedCountries, country) < i {
				is.add(fmt.Sprintf("shippingAddressCollection.allowedCountries[%d]", i), "repeats %s", country)
			}
		}
	}
	if len(r.ShippingRates) > maxShippingRates {
		is.add("shippingRates", "must have at most %d entries", maxShippingRates)
	}
	for i, rate := range r.ShippingRates {
		f := fmt.Sprintf("shippingRates[%d]", i)
		if !shippingRatePattern.MatchString(rate) {
			is.add(f, "must be a Stripe shipping rate id (shr_...)")
		} else if slices.Index(r.ShippingRates, rate) < i {
			is.add(f, "repeats %s", rate)
		}
	}
	if b := r.BillingAddressCollection; b != "" && b != "auto" && b != "required" {
		is.add("billingAddressCollection", "must be auto or required")
	}
	if len(r.PaymentMethodTypes) > maxPaymentMethodTypes {
		is.add("paymentMethodTypes", "must have at most %d entries", maxPaymentMethodTypes)
	}
	for i, pm := range r.PaymentMethodTypes {
		f := fmt.Sprintf("paymentMethodTypes[%d]", i)
		if !paymentMethodTypePattern.MatchString(pm) {
			is.add(f, "must be a Stripe payment method type such as card or klarna (a-z and _, 1-40 characters)")
		} else if slices.Index(r.PaymentMethodTypes, pm) < i {
			is.add(f, "repeats %s", pm)
		}
	}
	r.validateMetadata(is)
}

// validateMetadata checks the shop's metadata: Stripe's limits, and none of
// checkoutd's own keys.
func (r Request) validateMetadata(is *issues) {
	if len(r.Metadata) > maxMetadataKeys {
		is.add("metadata", "must have at most %d keys", maxMetadataKeys)
	}
	keys := make([]string, 0, len(r.Metadata))
	for k := range r.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys) // one order of details for one request
	for _, k := range keys {
		v := r.Metadata[k]
		f := "metadata." + k
		switch {
		case k == "" || len([]rune(k)) > maxMetadataKeyLen:
			is.add("metadata", "keys must be 1-%d characters", maxMetadataKeyLen)
		case !pgtext.Valid(k) || strings.ContainsAny(k, "[]"):
			is.add("metadata", "keys must be text without NUL characters or square brackets")
		case reservedMetadataKey(k):
			is.add(f, "is checkoutd's own key (shop_id and keys starting inventory_, checkout_ or checkoutd_ are reserved)")
		case len([]rune(v)) > maxMetadataValueLen:
			is.add(f, "must be at most %d characters", maxMetadataValueLen)
		case !pgtext.Valid(v):
			is.add(f, pgtext.Issue)
		}
	}
}

// validateItemOptions checks what an item shows on Stripe's page and how
// its quantity may change there.
func (it Item) validateItemOptions(f string, is *issues) {
	if it.Price != "" && (it.Description != "" || len(it.Images) > 0) {
		is.add(f+".price", "cannot be combined with description or images: a Stripe price's product has its own")
	}
	if len([]rune(it.Description)) > maxDescriptionLen || !pgtext.Valid(it.Description) {
		is.add(f+".description", "must be text of at most %d characters", maxDescriptionLen)
	}
	if len(it.Images) > maxImages {
		is.add(f+".images", "must have at most %d entries", maxImages)
	}
	for j, img := range it.Images {
		if !absoluteURL(img) || !strings.HasPrefix(strings.ToLower(img), "https://") {
			is.add(fmt.Sprintf("%s.images[%d]", f, j), "must be an absolute https URL")
		}
	}
	a := it.AdjustableQuantity
	if a == nil {
		return
	}
	if !a.Enabled {
		if a.Minimum != nil || a.Maximum != nil {
			is.add(f+".adjustableQuantity.enabled", "must be true when minimum or maximum is given")
		}
		return
	}
	switch {
	case a.Maximum == nil:
		is.add(f+".adjustableQuantity.maximum", "is required: it is what the hold reserves")
	case *a.Maximum < 1 || *a.Maximum > maxAdjustableQuantity:
		is.add(f+".adjustableQuantity.maximum", "must be 1-%d", maxAdjustableQuantity)
	case *a.Maximum < it.Quantity:
		is.add(f+".adjustableQuantity.maximum", "must be at least quantity (%d)", it.Quantity)
	}
	if m := a.minimum(); m < 0 || m > it.Quantity {
		is.add(f+".adjustableQuantity.minimum", "must be 0 to quantity (%d)", it.Quantity)
	}
}

// uiMode is the request's Checkout mode, hosted unless said.
func (r Request) uiMode() string {
	if r.UIMode == "" {
		return UIModeHosted
	}
	return r.UIMode
}
