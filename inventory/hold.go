package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/ids"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// HoldStatus is where a hold is in its life. active, pending_payment and
// expiring holds are open: they hold stock. The other three are final.
type HoldStatus string

// The states of a hold.
const (
	HoldActive         HoldStatus = "active"
	HoldPendingPayment HoldStatus = "pending_payment"
	// HoldExpiring is a hold bound to a Stripe Checkout Session whose
	// expiry has passed: it keeps its stock until Stripe says the session
	// expired (or its payment commits the hold), or until its session's own
	// expiry plus SessionGrace, whichever comes first.
	HoldExpiring  HoldStatus = "expiring"
	HoldCommitted HoldStatus = "committed"
	HoldReleased  HoldStatus = "released"
	HoldExpired   HoldStatus = "expired"
)

// SessionGrace is how long past its Stripe session's own expiry an expiring
// hold keeps its stock when Stripe has not answered: Stripe has closed the
// page by then. The database has the same figure (hold_open_until).
const SessionGrace = 5 * time.Minute

// Open reports whether a hold of status s still holds stock.
func (s HoldStatus) Open() bool {
	return s == HoldActive || s == HoldPendingPayment || s == HoldExpiring
}

// Hold is stock set aside for a checkout until it is committed (sold),
// released, or expires.
type Hold struct {
	ID                string     `json:"id"`
	ShopID            string     `json:"shopId"`
	Status            HoldStatus `json:"status"`
	ExpiresAt         time.Time  `json:"expiresAt"`
	CreatedAt         time.Time  `json:"createdAt"`
	CheckoutSessionID *string    `json:"checkoutSessionId"`
	// CheckoutSessionExpiresAt is when the hold's Stripe session expires
	// (Stripe closes the page then), nil while it has none.
	CheckoutSessionExpiresAt *time.Time `json:"checkoutSessionExpiresAt"`
	Reference                string     `json:"reference"`
	Items                    []HoldItem `json:"items"`
}

// HoldItem is one line of a hold and where its units were taken from.
type HoldItem struct {
	SKU         string       `json:"sku"`
	VariantKey  string       `json:"variantKey"`
	Quantity    int64        `json:"quantity"`
	Allocations []Allocation `json:"allocations"`
}

// Allocation is the part of a hold line taken from one location. Backordered
// units are promised beyond what the location has on hand.
type Allocation struct {
	LocationID  string `json:"locationId"`
	Quantity    int64  `json:"quantity"`
	Backordered int64  `json:"backordered"`
}

// ReserveRequest asks for a hold on some lines.
type ReserveRequest struct {
	Items []Line `json:"items"`
	// TTL is how long the hold lasts unless committed or released.
	TTL time.Duration `json:"-"`
	// IdempotencyKey, when set, makes a repeated request return the first
	// hold instead of placing another.
	IdempotencyKey string `json:"idempotencyKey"`
	Reference      string `json:"reference"`
	// CheckoutMode, "sale" or "rental" when set, records what the hold is
	// for; the SALE movements of its commit carry it in their notes.
	CheckoutMode string `json:"-"`
	// CustomerKey names the buyer in the shop's own terms (an account id,
	// a hash of the email): 1 to MaxCustomerKeyLen printable characters.
	// Lines with a per-customer limit need it; the ledger keeps only a
	// hash of it.
	CustomerKey string `json:"customerKey"`
}

func (r ReserveRequest) validate(shopID string) error {
	var c checker
	c.shopID("shopId", shopID)
	c.lines("items", r.Items)
	if r.TTL < time.Second || r.TTL > MaxTTLSeconds*time.Second || r.TTL%time.Second != 0 {
		c.add("ttlSeconds", "must be a whole number of seconds from 1 to %d", MaxTTLSeconds)
	}
	c.text("idempotencyKey", r.IdempotencyKey, maxTextLen)
	c.text("reference", r.Reference, maxTextLen)
	if r.CustomerKey != "" && !ValidCustomerKey(r.CustomerKey) {
		c.add("customerKey", "must be 1 to %d printable characters", MaxCustomerKeyLen)
	}
	switch r.CheckoutMode {
	case "", "sale", "rental":
	default:
		c.add("mode", "must be sale or rental")
	}
	return c.err()
}

// Reserve places a hold on every line of req or on none. Lines naming the same
// stock line are summed first. Each line takes free stock from the shop's
// locations in priority order, splitting across locations when one is short,
// and may then backorder up to the line's backorder limit.
//
// With an IdempotencyKey, a repeat of the same request returns the same hold
// (created is false); the same key with other items is ErrIdempotencyConflict.
// A shortfall is an *InsufficientStockError and changes nothing.
//
// A line's purchase limits apply too: more than its MaxPerOrder, or more
// than its MaxPerCustomer leaves the request's CustomerKey within the
// purchase-limit window, is a *LimitExceededError and changes nothing; a
// line with a MaxPerCustomer needs a CustomerKey.
func (l *Ledger) Reserve(ctx context.Context, shopID string, req ReserveRequest) (hold *Hold, created bool, err error) {
	if err := req.validate(shopID); err != nil {
		return nil, false, err
	}
	lines := mergeLines(req.Items)
	perCustomer, err := l.checkOrderLimits(ctx, shopID, lines, req)
	if err != nil {
		return nil, false, err
	}
	if perCustomer {
		return l.reserveForCustomer(ctx, shopID, lines, req)
	}
	return l.reserveLines(ctx, shopID, lines, req)
}

// reserveLines is Reserve once its input and the lines' limits allow the
// hold: lines are merged, and sorted as mergeLines leaves them.
func (l *Ledger) reserveLines(ctx context.Context, shopID string, lines []Line, req ReserveRequest) (hold *Hold, created bool, err error) {
	hold, created, shortfall, err := l.tryReserveUnlocking(ctx, shopID, lines, req)
	if err != nil || shortfall == nil {
		return hold, created, err
	}
	// The statement counts every open hold; availability does not count
	// lapsed ones. If lapsed holds are all that stands in the way, close them
	// now rather than make the customer wait for the reaper, and try again.
	lapsedInWay, shopExists, err := l.coveredWithoutLapsed(ctx, shopID, shortfall)
	switch {
	case err != nil:
		return nil, false, err
	case !shopExists:
		return nil, false, checkoutd.ErrShopNotFound
	case lapsedInWay:
		keys := make([]lineKey, len(shortfall.Lines))
		for i, s := range shortfall.Lines {
			keys[i] = lineKey{s.SKU, s.VariantKey}
		}
		if err := l.expireLapsedOnLines(ctx, shopID, keys); err != nil {
			return nil, false, err
		}
		hold, created, shortfall, err = l.tryReserve(ctx, shopID, lines, req)
		if err != nil || shortfall == nil {
			return hold, created, err
		}
	}
	l.metrics.insufficientStock()
	return nil, false, shortfall
}

// coveredWithoutLapsed reports whether every short line would be covered if
// lapsed holds no longer counted, and whether the shop exists, in one read
// (a validation's, so concurrent refusals share it). Otherwise it updates
// the shortfall's available quantities to what the lines have once lapsed
// holds are set aside, the figure a caller can act on.
func (l *Ledger) coveredWithoutLapsed(ctx context.Context, shopID string, short *InsufficientStockError) (covered, shopExists bool, err error) {
	op := &validateOp{shopID: shopID, lines: make([]Line, len(short.Lines))}
	for i, s := range short.Lines {
		op.lines[i] = Line{SKU: s.SKU, VariantKey: s.VariantKey, Quantity: s.Requested}
	}
	if err := l.validateLines(ctx, op); err != nil {
		return false, false, l.dbError("check availability", err)
	}
	covered, shopExists = true, true
	for i, s := range short.Lines {
		a := op.answers[i]
		shopExists = shopExists && a.shopExists
		if a.available < s.Requested {
			covered = false
		}
		short.Lines[i].Available = a.available
	}
	return covered, shopExists, nil
}

// tryReserve runs the reserve statement once. It returns the hold when one
// was placed or the idempotency key already had one, else the shortfall.
func (l *Ledger) tryReserve(ctx context.Context, shopID string, lines []Line, req ReserveRequest) (*Hold, bool, *InsufficientStockError, error) {
	skus, variantKeys, quantities := lineColumns(lines)
	holdID := ids.New("hold_")
	var key, mode *string
	if req.IdempotencyKey != "" {
		key = &req.IdempotencyKey
	}
	if req.CheckoutMode != "" {
		mode = &req.CheckoutMode
	}
	rows, err := l.reserveRows(ctx, db.ReserveHoldParams{
		ShopID:         shopID,
		HoldID:         holdID,
		Skus:           skus,
		VariantKeys:    variantKeys,
		Quantities:     quantities,
		TtlSeconds:     int32(req.TTL / time.Second),
		IdempotencyKey: key,
		Reference:      req.Reference,
		CheckoutMode:   mode,
		// Lines this hold leaves at or below their threshold get a low-stock
		// check, in the same statement.
		DefaultThreshold: l.cfg.DefaultLowStockThreshold,
	})
	if err != nil {
		return nil, false, nil, l.dbError("reserve", err)
	}
	if len(rows) > 0 && rows[0].Placed {
		hold := holdFromReserve(shopID, holdID, req.Reference, rows)
		l.metrics.holdCreated()
		l.log.DebugContext(ctx, "hold placed", "shop_id", shopID, "hold_id", holdID, "expires_at", hold.ExpiresAt)
		return hold, true, nil, nil
	}
	if key != nil {
		existing, err := l.holdForKey(ctx, shopID, req.IdempotencyKey, lines)
		if err != nil || existing != nil {
			return existing, false, nil, err
		}
	}
	short := &InsufficientStockError{}
	for _, r := range rows {
		if r.Requested > r.Available {
			short.Lines = append(short.Lines, Shortfall{SKU: r.Sku, VariantKey: r.VariantKey, Requested: r.Requested, Available: r.Available})
		}
	}
	if len(short.Lines) == 0 {
		// The idempotency key's hold was taken by a request that has since
		// rolled back: a retry will place it.
		return nil, false, nil, &BusyError{RetryAfter: l.cfg.BusyRetryAfter}
	}
	return nil, false, short, nil
}

// holdForKey returns the hold placed earlier under key, nil if there is none,
// or ErrIdempotencyConflict if it holds other lines than asked for.
func (l *Ledger) holdForKey(ctx context.Context, shopID, key string, lines []Line) (*Hold, error) {
	id, err := l.queries.GetHoldIDByIdempotencyKey(ctx, l.db, db.GetHoldIDByIdempotencyKeyParams{ShopID: shopID, IdempotencyKey: key})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, l.dbError("look up idempotency key", err)
	}
	hold, err := l.GetHold(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	if !sameLines(hold.Items, lines) {
		return nil, ErrIdempotencyConflict
	}
	return hold, nil
}

func sameLines(items []HoldItem, lines []Line) bool {
	if len(items) != len(lines) {
		return false
	}
	for i, it := range items {
		if it.SKU != lines[i].SKU || it.VariantKey != lines[i].VariantKey || it.Quantity != lines[i].Quantity {
			return false
		}
	}
	return true
}

func holdFromReserve(shopID, holdID, reference string, rows []db.ReserveHoldRow) *Hold {
	h := &Hold{
		ID:        holdID,
		ShopID:    shopID,
		Status:    HoldActive,
		ExpiresAt: rows[0].ExpiresAt.UTC(),
		CreatedAt: rows[0].CreatedAt.UTC(),
		Reference: reference,
	}
	for _, r := range rows {
		h.addAllocation(r.Sku, r.VariantKey, Allocation{LocationID: r.LocationID, Quantity: r.Allocated, Backordered: r.Backordered})
	}
	return h
}

// addAllocation appends a to the hold's item for the line, starting a new item
// when the line changes; rows arrive grouped by line.
func (h *Hold) addAllocation(sku, variantKey string, a Allocation) {
	n := len(h.Items)
	if n == 0 || h.Items[n-1].SKU != sku || h.Items[n-1].VariantKey != variantKey {
		h.Items = append(h.Items, HoldItem{SKU: sku, VariantKey: variantKey})
		n++
	}
	it := &h.Items[n-1]
	it.Quantity += a.Quantity
	it.Allocations = append(it.Allocations, a)
}

// GetHold returns a hold with its lines. An open hold that no longer holds
// stock is reported as expired, whether or not the reaper has closed it yet;
// an active one bound to a Stripe session and past its expiry, as expiring,
// whether or not the reaper has marked it yet.
func (l *Ledger) GetHold(ctx context.Context, shopID, holdID string) (*Hold, error) {
	row, err := l.queries.GetHold(ctx, l.db, db.GetHoldParams{ShopID: shopID, ID: holdID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrHoldNotFound
	}
	if err != nil {
		return nil, l.dbError("get hold", err)
	}
	allocs, err := l.queries.ListHoldAllocations(ctx, l.db, db.ListHoldAllocationsParams{ShopID: shopID, HoldID: holdID})
	if err != nil {
		return nil, l.dbError("get hold allocations", err)
	}
	h := &Hold{
		ID:                row.ID,
		ShopID:            row.ShopID,
		Status:            HoldStatus(row.Status),
		ExpiresAt:         row.ExpiresAt.UTC(),
		CreatedAt:         row.CreatedAt.UTC(),
		CheckoutSessionID: row.CheckoutSessionID,
		Reference:         row.Reference,
	}
	if row.CheckoutSessionExpiresAt != nil {
		t := row.CheckoutSessionExpiresAt.UTC()
		h.CheckoutSessionExpiresAt = &t
	}
	h.Status = reportedStatus(row.Status, row.Lapsed, row.Expiring)
	for _, a := range allocs {
		h.addAllocation(a.Sku, a.VariantKey, Allocation{LocationID: a.LocationID, Quantity: a.Quantity, Backordered: a.Backordered})
	}
	return h, nil
}

// Commit turns an open hold into a sale: its units leave on_hand and reserved
// together, with a SALE movement per allocation. Committing a committed hold
// returns it unchanged. A released or expired hold, including an open one
// that no longer holds stock, is a *HoldNotActiveError. An expiring hold
// still holds its stock for its session's payment, so it commits.
func (l *Ledger) Commit(ctx context.Context, shopID, holdID, reference string) (*Hold, error) {
	var c checker
	c.text("reference", reference, maxTextLen)
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.commitRows(ctx, shopID, holdID, reference)
	if err != nil {
		return nil, l.dbError("commit hold", err)
	}
	if len(rows) > 0 {
		hold := &Hold{
			ID:                holdID,
			ShopID:            shopID,
			Status:            HoldCommitted,
			ExpiresAt:         rows[0].ExpiresAt.UTC(),
			CreatedAt:         rows[0].CreatedAt.UTC(),
			CheckoutSessionID: rows[0].CheckoutSessionID,
			Reference:         rows[0].Reference,
		}
		if t := rows[0].CheckoutSessionExpiresAt; t != nil {
			u := t.UTC()
			hold.CheckoutSessionExpiresAt = &u
		}
		for _, r := range rows {
			hold.addAllocation(r.Sku, r.VariantKey, Allocation{LocationID: r.LocationID, Quantity: r.Quantity, Backordered: r.Backordered})
		}
		l.metrics.holdCommitted()
		l.log.InfoContext(ctx, "hold committed", "shop_id", shopID, "hold_id", holdID, "reference", reference)
		return hold, nil
	}
	hold, err := l.GetHold(ctx, shopID, holdID)
	if err != nil {
		return nil, err
	}
	switch hold.Status {
	case HoldCommitted:
		return hold, nil
	case HoldExpired:
		if err := l.expireLapsed(ctx, shopID, holdID); err != nil {
			return nil, err
		}
	}
	return nil, &HoldNotActiveError{HoldID: holdID, Status: hold.Status}
}

// Release gives an open hold's units back, with a RELEASE movement per
// allocation. Releasing a released or expired hold returns it unchanged;
// releasing a committed one is a *HoldNotActiveError.
//
// A hold past its expiry is not released: it has expired, and is closed as
// expired if the reaper has not done so yet, or, bound to a Stripe session,
// it is expiring and keeps its stock until Stripe closes the session
// (SessionClosed), since the customer may still be paying.
func (l *Ledger) Release(ctx context.Context, shopID, holdID, reason string) (*Hold, error) {
	var c checker
	c.text("reason", reason, maxTextLen)
	if err := c.err(); err != nil {
		return nil, err
	}
	hold, err := l.GetHold(ctx, shopID, holdID)
	if err != nil {
		return nil, err
	}
	switch hold.Status {
	case HoldExpired:
		return hold, l.expireLapsed(ctx, shopID, holdID)
	case HoldExpiring:
		return hold, nil
	}
	closed, err := l.closeRows(ctx, db.CloseHoldsParams{
		ShopIds:      []string{shopID},
		HoldIds:      []string{holdID},
		Status:       string(HoldReleased),
		Reason:       reason,
		DueBefore:    farFuture,
		UnlapsedOnly: true,
	})
	if err != nil {
		return nil, l.dbError("release hold", err)
	}
	if hold, err = l.GetHold(ctx, shopID, holdID); err != nil {
		return nil, err
	}
	if len(closed) == 1 {
		l.metrics.holdReleased()
		l.log.InfoContext(ctx, "hold released", "shop_id", shopID, "hold_id", holdID, "reason", reason)
		return hold, nil
	}
	switch hold.Status {
	case HoldCommitted:
		return nil, &HoldNotActiveError{HoldID: holdID, Status: hold.Status}
	case HoldExpired:
		// It lapsed while the release waited: it expired, as above.
		return hold, l.expireLapsed(ctx, shopID, holdID)
	}
	return hold, nil
}

// SessionClosed gives back the units of an open hold whose Stripe Checkout
// Session can no longer be paid (Stripe expired it, or said so), with a
// RELEASE movement per allocation: the hold is expired, whatever its expiry.
// A closed hold is returned unchanged; a committed one is a
// *HoldNotActiveError.
func (l *Ledger) SessionClosed(ctx context.Context, shopID, holdID, reason string) (*Hold, error) {
	var c checker
	c.text("reason", reason, maxTextLen)
	if err := c.err(); err != nil {
		return nil, err
	}
	closed, err := l.closeRows(ctx, db.CloseHoldsParams{
		ShopIds:   []string{shopID},
		HoldIds:   []string{holdID},
		Status:    string(HoldExpired),
		Reason:    reason,
		DueBefore: farFuture,
	})
	if err != nil {
		return nil, l.dbError("close session hold", err)
	}
	hold, err := l.GetHold(ctx, shopID, holdID)
	if err != nil {
		return nil, err
	}
	if len(closed) == 1 {
		l.metrics.holdsExpired(1)
		l.log.InfoContext(ctx, "hold expired with its session", "shop_id", shopID, "hold_id", holdID, "reason", reason)
		return hold, nil
	}
	if hold.Status == HoldCommitted {
		return nil, &HoldNotActiveError{HoldID: holdID, Status: hold.Status}
	}
	return hold, nil
}

// Extend pushes an active hold's expiry ttl further out, but never more than
// MaxTTLSeconds past now: extending again and again cannot keep stock longer
// than one hold may last. A hold bound to a Stripe session never goes past
// the session's expiry. Only active holds that have not lapsed can be
// extended.
func (l *Ledger) Extend(ctx context.Context, shopID, holdID string, ttl time.Duration) (*Hold, error) {
	if ttl < time.Second || ttl > MaxTTLSeconds*time.Second || ttl%time.Second != 0 {
		return nil, &checkoutd.ValidationError{Details: []checkoutd.FieldIssue{{Field: "ttlSeconds", Issue: fmt.Sprintf("must be a whole number of seconds from 1 to %d", MaxTTLSeconds)}}}
	}
	n, err := l.queries.ExtendHold(ctx, l.db, db.ExtendHoldParams{
		ShopID: shopID, ID: holdID, TtlSeconds: int32(ttl / time.Second), MaxTtlSeconds: MaxTTLSeconds,
	})
	if err != nil {
		return nil, l.dbError("extend hold", err)
	}
	hold, err := l.GetHold(ctx, shopID, holdID)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, &HoldNotActiveError{HoldID: holdID, Status: hold.Status}
	}
	l.log.DebugContext(ctx, "hold extended", "shop_id", shopID, "hold_id", holdID, "expires_at", hold.ExpiresAt)
	return hold, nil
}

// errShortfall rolls back the savepoint of a first attempt that came up short.
var errShortfall = errors.New("shortfall")

// tryReserveUnlocking is tryReserve for Reserve's first attempt. On a Ledger
// bound to a transaction it runs in a savepoint that is rolled back when the
// attempt comes up short, which releases the stock rows the statement
// locked: Reserve then locks lapsed holds to close them, and holds before
// stock rows is the order CloseHolds, the reaper and Commit take them in.
// Keeping the stock rows locked would deadlock with them.
func (l *Ledger) tryReserveUnlocking(ctx context.Context, shopID string, lines []Line, req ReserveRequest) (*Hold, bool, *InsufficientStockError, error) {
	if _, bound := l.db.(pgx.Tx); !bound {
		return l.tryReserve(ctx, shopID, lines, req)
	}
	var (
		hold      *Hold
		created   bool
		shortfall *InsufficientStockError
	)
	err := l.inBoundTx(ctx, func(bound *Ledger) error {
		var err error
		hold, created, shortfall, err = bound.tryReserve(ctx, shopID, lines, req)
		if err == nil && shortfall != nil {
			return errShortfall
		}
		return err
	})
	if errors.Is(err, errShortfall) {
		err = nil
	}
	return hold, created, shortfall, err
}
