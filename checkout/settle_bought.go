package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory"
)

// ErrPaymentProviderUnavailable is wrapped into errors from reading what
// Stripe knows of a paid session (its line items) when Stripe could not be
// read: unreachable, a 5xx, a timeout or any refusal. What the customer
// bought is then unknown, so nothing was settled and the event must come
// again. Such errors also match database.ErrUnavailable (errors.Is), so
// that whoever fails closed on an unavailable dependency treats them alike:
// the webhook endpoint answers 503 and Stripe retries, a job is retried.
var ErrPaymentProviderUnavailable = errors.New("payment provider unavailable")

// providerUnavailableError is a read from Stripe that failed.
type providerUnavailableError struct{ err error }

func (e *providerUnavailableError) Error() string {
	return ErrPaymentProviderUnavailable.Error() + ": " + e.err.Error()
}

func (e *providerUnavailableError) Unwrap() error { return e.err }

// Is makes the error both ErrPaymentProviderUnavailable and
// database.ErrUnavailable, the mark every caller already fails closed on.
func (e *providerUnavailableError) Is(target error) bool {
	return target == ErrPaymentProviderUnavailable || target == database.ErrUnavailable
}

// Prepared is what settling one event needs from Stripe, read by
// Settler.Prepare before the event's transaction opens: for the payment of
// a checkout with an adjustable line, the session's line items, which say
// what the customer bought. The zero value is an event that needs nothing.
type Prepared struct {
	sessionID string
	// read is set once the line items were read; a session may list none.
	read      bool
	lineItems []lineItem
}

// lineItem is what the settler reads of one line item of a session.
type lineItem struct {
	id       string
	quantity int64
	price    string
	// sku and variantKey are the metadata of the price's product, which
	// checkoutd gives every product it makes; hasSKU tells whether it
	// names a sku at all.
	sku, variantKey string
	hasSKU          bool
}

// maxLineItems is the most line items a session has (Stripe's limit), and
// so the page size that reads them all at once.
const maxLineItems = 100

// paying reports whether ev says the session's customer has paid.
func paying(ev SessionEvent) bool {
	switch ev.Type {
	case stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		return true
	case stripe.EventTypeCheckoutSessionCompleted:
		return ev.PaymentStatus == string(stripe.CheckoutSessionPaymentStatusPaid) ||
			ev.PaymentStatus == string(stripe.CheckoutSessionPaymentStatusNoPaymentRequired)
	}
	return false
}

// Prepare reads, outside any transaction, what Settle will need from Stripe
// to apply ev to its checkout in shopID, looking the checkout up on conn
// (without a lock). Only the payment of an unsettled checkout with an
// adjustable line needs something: the session's line items, which say
// what the customer bought. A network call never runs inside the event's
// transaction, where it would keep the checkout and its stock locked while
// Stripe answers.
//
// An error wrapping ErrPaymentProviderUnavailable means Stripe could not
// be read; others are the database's. Either way nothing was done, and the
// event should be applied again later.
func (s *Settler) Prepare(ctx context.Context, conn database.Executor, shopID string, ev SessionEvent) (Prepared, error) {
	p := Prepared{sessionID: ev.SessionID}
	if !paying(ev) {
		return p, nil
	}
	c, err := s.queries.GetCheckoutToSettle(ctx, conn, db.GetCheckoutToSettleParams{ShopID: shopID, StripeSessionID: &ev.SessionID})
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return p, database.WrapError("read the checkout of session "+ev.SessionID, err)
	}
	if Status(c.Status).Settled() {
		return p, nil
	}
	lines, err := decodeLines(c.Lines)
	if err != nil {
		return p, err
	}
	if !adjustable(lines) {
		return p, nil
	}
	if s.cfg.Sessions == nil {
		return p, fmt.Errorf("read the line items of session %s: the settler has no Stripe client (SettleConfig.Sessions)", ev.SessionID)
	}
	if p.lineItems, err = s.readLineItems(ctx, ev.SessionID); err != nil {
		return p, fmt.Errorf("read the line items of session %s of checkout %s: %w", ev.SessionID, c.ID, &providerUnavailableError{err})
	}
	p.read = true
	return p, nil
}

// readLineItems lists every line item of a session, each with its price's
// product expanded, whose metadata names the line's stock.
func (s *Settler) readLineItems(ctx context.Context, sessionID string) ([]lineItem, error) {
	params := &stripe.CheckoutSessionListLineItemsParams{Session: stripe.String(sessionID)}
	params.Context = ctx
	params.Limit = stripe.Int64(maxLineItems)
	params.AddExpand("data.price.product")
	iter := s.cfg.Sessions.ListLineItems(params)
	var items []lineItem
	for iter.Next() {
		li := iter.LineItem()
		item := lineItem{id: li.ID, quantity: li.Quantity}
		if price := li.Price; price != nil {
			item.price = price.ID
			if product := price.Product; product != nil {
				item.sku, item.hasSKU = product.Metadata["sku"]
				item.variantKey = product.Metadata["variant_key"]
			}
		}
		items = append(items, item)
	}
	if err := iter.Err(); err != nil {
		return nil, err
	}
	return items, nil
}

// purchase is what a paid checkout with adjustable lines settles.
type purchase struct {
	// lines are the checkout's lines, in order, with the quantities sold:
	// those bought (0 for a line dropped), or each line's maximum when the
	// line items do not account for the lines.
	lines []inventory.Line
	// issue, when set, says how the line items fail to account for the
	// lines: the checkout is then sold at its maxima, for review.
	issue string
}

// maxIssues bounds how many problems an issue names.
const maxIssues = 5

// matchLineItems works out what was bought of each line from the session's
// line items. A line item is matched to a line by the sku and variant_key
// of its product's metadata, else by its price id; of several such lines,
// to the first not matched yet. Every line item must match a line, and
// every line's quantity must be one it allows: within minimum and maximum
// when adjustable (a line listed by no item was bought 0 times), exactly
// what was asked otherwise. If anything does not add up, nothing is
// guessed: the purchase is every line at its maximum, with the issue.
func matchLineItems(lines []storedLine, items []lineItem) purchase {
	bought := make([]int64, len(lines))
	matched := make([]bool, len(lines))
	var issues []string
	for _, it := range items {
		i, problem := matchLine(lines, matched, it)
		if problem != "" {
			issues = append(issues, problem)
			continue
		}
		matched[i] = true
		bought[i] = it.quantity
	}
	for i, l := range lines {
		q := bought[i]
		switch {
		case l.Adjustable && (q < l.Minimum || q > l.Quantity):
			issues = append(issues, fmt.Sprintf("line %d (%s[%s]) was bought %d times, outside its %d to %d", i, l.SKU, l.VariantKey, q, l.Minimum, l.Quantity))
		case !l.Adjustable && q != l.Quantity:
			issues = append(issues, fmt.Sprintf("line %d (%s[%s]) was bought %d times, not the %d asked for", i, l.SKU, l.VariantKey, q, l.Quantity))
		}
	}
	if len(issues) > 0 {
		if len(issues) > maxIssues {
			issues = append(issues[:maxIssues], fmt.Sprintf("and %d more", len(issues)-maxIssues))
		}
		return purchase{lines: inventoryLines(lines), issue: strings.Join(issues, "; ")}
	}
	p := purchase{lines: inventoryLines(lines)}
	for i := range p.lines {
		p.lines[i].Quantity = bought[i]
	}
	return p
}

// matchLine finds the line a line item is for among those not matched yet,
// or says why there is none. Lines of different stock that share a price
// id cannot be told apart by it; that only matters when one of them may
// be resized or dropped, since Stripe lists each fixed line as asked.
func matchLine(lines []storedLine, matched []bool, it lineItem) (int, string) {
	var named, open []int
	for i, l := range lines {
		if it.hasSKU && l.SKU == it.sku && l.VariantKey == it.variantKey {
			named = append(named, i)
		}
	}
	candidates := named
	if len(named) == 0 {
		for i, l := range lines {
			if it.price != "" && l.Price == it.price {
				candidates = append(candidates, i)
			}
		}
	}
	for _, i := range candidates {
		if !matched[i] {
			open = append(open, i)
		}
	}
	switch {
	case len(candidates) == 0:
		return -1, fmt.Sprintf("line item %s (price %s, sku %q, variant_key %q) matches no line", it.id, it.price, it.sku, it.variantKey)
	case len(open) == 0:
		return -1, fmt.Sprintf("line item %s (price %s) matches only lines other line items matched", it.id, it.price)
	}
	first := lines[open[0]]
	for _, i := range open[1:] {
		l := lines[i]
		if (l.SKU != first.SKU || l.VariantKey != first.VariantKey) && (l.Adjustable || first.Adjustable) {
			return -1, fmt.Sprintf("line item %s (price %s) could be line %d or line %d, and one of them could be resized", it.id, it.price, open[0], i)
		}
	}
	return open[0], ""
}

// purchase works out what the checkout's customer bought from the line
// items Prepare read, and records it on the checkout, in the settlement's
// transaction. Line items that do not account for the checkout's lines
// are logged at error level and recorded as the checkout's review reason.
func (s settlement) purchase(ctx context.Context, lines []storedLine) (purchase, error) {
	if !s.prepared.read || s.prepared.sessionID != s.ev.SessionID {
		// Prepare saw no adjustable checkout to pay for: the checkout was
		// recorded meanwhile, or Prepare was not called. A retry reads them.
		return purchase{}, fmt.Errorf("settle session %s: its line items were not read before the transaction (Settler.Prepare)", s.ev.SessionID)
	}
	p := matchLineItems(lines, s.prepared.lineItems)
	var reason *string
	if p.issue != "" {
		reason = &p.issue
		s.log.ErrorContext(ctx, "the session's line items do not account for the checkout's lines: every line is sold at its maximum, for review",
			"issue", p.issue, "line_items", len(s.prepared.lineItems))
	}
	bought, err := json.Marshal(p.lines)
	if err != nil {
		return purchase{}, fmt.Errorf("encode what was bought: %w", err)
	}
	if err := s.s.queries.RecordCheckoutBought(ctx, s.tx, db.RecordCheckoutBoughtParams{
		ShopID: s.shopID, ID: s.checkout.ID, Bought: bought, ReviewReason: reason,
	}); err != nil {
		return purchase{}, fmt.Errorf("record what checkout %s was bought for: %w", s.checkout.ID, err)
	}
	return p, nil
}

// sold is lines without those of which nothing was bought.
func sold(lines []inventory.Line) []inventory.Line {
	out := make([]inventory.Line, 0, len(lines))
	for _, l := range lines {
		if l.Quantity > 0 {
			out = append(out, l)
		}
	}
	return out
}
