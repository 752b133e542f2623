package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/ids"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// ReturnItem is units of one line coming back from a committed hold.
type ReturnItem struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Quantity   int64  `json:"quantity"`
	// LocationID is where the units were allocated and, restocked, go back
	// on hand. In a request "" lets the ledger pick the line's locations in
	// the order the hold drew on them; in a Return it is always set.
	LocationID string `json:"locationId"`
}

// ReturnRequest asks to take units of a committed hold back.
type ReturnRequest struct {
	Items []ReturnItem
	// Restock puts the units back on hand with RETURN movements; without
	// it the return is recorded and the stock does not change.
	Restock bool
	Reason  string
	// IdempotencyKey, when set, makes a repeated request return the first
	// return instead of recording another.
	IdempotencyKey string
	// CreatedBy is who asked, for the RETURN movements.
	CreatedBy string
}

// Return is units taken back from a committed hold.
type Return struct {
	ID        string       `json:"id"`
	HoldID    string       `json:"holdId"`
	Items     []ReturnItem `json:"items"`
	Restock   bool         `json:"restock"`
	Reason    string       `json:"reason"`
	CreatedAt time.Time    `json:"createdAt"`
}

// ReturnExceedsSaleError is returned when a return would bring back more of
// a line (at LocationID, when the request named one) than the hold's commit
// sold there, less what earlier returns brought back. Nothing was changed.
type ReturnExceedsSaleError struct {
	SKU        string
	VariantKey string
	LocationID string
	Requested  int64
	// Returnable is how many units may still come back.
	Returnable int64
}

func (e *ReturnExceedsSaleError) Error() string {
	where := ""
	if e.LocationID != "" {
		where = " at " + e.LocationID
	}
	return fmt.Sprintf("return of %s[%s]%s: requested %d, returnable %d", e.SKU, e.VariantKey, where, e.Requested, e.Returnable)
}

// RefundReturnReason is the reason of the return a full Stripe refund
// records for a shop that restocks on refund.
const RefundReturnReason = "stripe_refund"

func (r ReturnRequest) validate(shopID, holdID string) error {
	var c checker
	c.shopID("shopId", shopID)
	c.text("holdId", holdID, maxTextLen)
	c.itemCount("items", len(r.Items))
	if len(r.Items) <= MaxItems {
		for i, it := range r.Items {
			f := fmt.Sprintf("items[%d].", i)
			c.sku(f+"sku", it.SKU)
			c.variantKey(f+"variantKey", it.VariantKey)
			c.quantity(f+"quantity", it.Quantity, 1)
			if it.LocationID != "" {
				c.locationID(f+"locationId", it.LocationID)
			}
		}
	}
	c.text("reason", r.Reason, maxTextLen)
	c.text("idempotencyKey", r.IdempotencyKey, maxTextLen)
	return c.err()
}

func (r ReturnRequest) hash() []byte {
	body, _ := json.Marshal(struct {
		Items   []ReturnItem `json:"items"`
		Restock bool         `json:"restock"`
		Reason  string       `json:"reason"`
	}{r.Items, r.Restock, r.Reason})
	sum := sha256.Sum256(body)
	return sum[:]
}

// CreateReturn records units of a committed hold coming back, restocked or
// not, all of req's items or none. The units of a line over all the hold's
// returns never exceed what its commit sold: more is a
// *ReturnExceedsSaleError. A hold that is not committed is a
// *HoldNotActiveError. With an IdempotencyKey a repeat of the same request
// returns the first return (created is false); the key with another request
// is ErrIdempotencyConflict. On a Ledger bound to a transaction it all
// commits with the caller's.
func (l *Ledger) CreateReturn(ctx context.Context, shopID, holdID string, req ReturnRequest) (ret *Return, created bool, err error) {
	if err := req.validate(shopID, holdID); err != nil {
		return nil, false, err
	}
	err = l.inBoundTx(ctx, func(bound *Ledger) error {
		ret, created, err = bound.recordReturn(ctx, shopID, holdID, req, false)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return ret, created, nil
}

// ReturnRemaining returns, restocked, every unit of a committed hold that
// no return has brought back yet, as one return keyed by idempotencyKey: a
// repeat returns the first (created false), and a hold with nothing left to
// return records nothing (nil, false). The refund of a paid checkout calls
// it on a Ledger bound to the webhook's transaction.
func (l *Ledger) ReturnRemaining(ctx context.Context, shopID, holdID, reason, idempotencyKey string) (ret *Return, created bool, err error) {
	req := ReturnRequest{Restock: true, Reason: reason, IdempotencyKey: idempotencyKey, CreatedBy: reason}
	var c checker
	c.text("reason", reason, maxTextLen)
	c.text("idempotencyKey", idempotencyKey, maxTextLen)
	if idempotencyKey == "" {
		c.add("idempotencyKey", "is required")
	}
	if err := c.err(); err != nil {
		return nil, false, err
	}
	err = l.inBoundTx(ctx, func(bound *Ledger) error {
		ret, created, err = bound.recordReturn(ctx, shopID, holdID, req, true)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return ret, created, nil
}

// recordReturn does CreateReturn's work in l's transaction; with remaining,
// req's items are whatever the hold has left to return.
func (l *Ledger) recordReturn(ctx context.Context, shopID, holdID string, req ReturnRequest, remaining bool) (*Return, bool, error) {
	hold, err := l.queries.LockHoldForReturn(ctx, l.db, db.LockHoldForReturnParams{ShopID: shopID, HoldID: holdID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, ErrHoldNotFound
	}
	if err != nil {
		return nil, false, l.dbError("lock hold for return", err)
	}
	if req.IdempotencyKey != "" {
		prior, err := l.queries.ReturnByKey(ctx, l.db, db.ReturnByKeyParams{ShopID: shopID, IdempotencyKey: &req.IdempotencyKey})
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return nil, false, l.dbError("find return by key", err)
		case prior.HoldID != holdID || !remaining && string(prior.RequestHash) != string(req.hash()):
			return nil, false, ErrIdempotencyConflict
		default:
			ret, err := l.getReturn(ctx, shopID, holdID, prior.ID)
			return ret, false, err
		}
	}
	if HoldStatus(hold.Status) != HoldCommitted {
		return nil, false, &HoldNotActiveError{HoldID: holdID, Status: HoldStatus(hold.Status)}
	}
	sold, err := l.queries.HoldSold(ctx, l.db, db.HoldSoldParams{ShopID: shopID, HoldID: holdID})
	if err != nil {
		return nil, false, l.dbError("read hold sale", err)
	}
	if remaining {
		req.Items = nil
		for _, s := range sold {
			if left := s.Sold - s.Returned; left > 0 {
				req.Items = append(req.Items, ReturnItem{SKU: s.Sku, VariantKey: s.VariantKey, LocationID: s.LocationID, Quantity: left})
			}
		}
		if len(req.Items) == 0 {
			return nil, false, nil
		}
	}
	items, err := placeReturn(sold, req.Items)
	if err != nil {
		return nil, false, err
	}

	ret := &Return{ID: ids.New("ret_"), HoldID: holdID, Items: items, Restock: req.Restock, Reason: req.Reason}
	var key *string
	if req.IdempotencyKey != "" {
		key = &req.IdempotencyKey
	}
	createdAt, err := l.queries.InsertReturn(ctx, l.db, db.InsertReturnParams{
		ShopID: shopID, ID: ret.ID, HoldID: holdID, Restock: req.Restock, Reason: req.Reason,
		IdempotencyKey: key, RequestHash: req.hash(),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		// The key was taken meanwhile by a return of another hold: this
		// hold's returns are serialised by its lock, so it cannot be ours.
		return nil, false, ErrIdempotencyConflict
	}
	if err != nil {
		return nil, false, l.dbError("insert return", err)
	}
	ret.CreatedAt = createdAt.UTC()

	soldAt := make(map[returnKey]int64, len(sold))
	for _, s := range sold {
		soldAt[returnKey{s.Sku, s.VariantKey, s.LocationID}] = s.Sold
	}
	n := len(items)
	skus, variants, locations := make([]string, n), make([]string, n), make([]string, n)
	quantities, soldQ, positions := make([]int64, n), make([]int64, n), make([]int32, n)
	for i, it := range items {
		skus[i], variants[i], locations[i], quantities[i] = it.SKU, it.VariantKey, it.LocationID, it.Quantity
		soldQ[i] = soldAt[returnKey{it.SKU, it.VariantKey, it.LocationID}]
		positions[i] = int32(i)
	}
	err = l.queries.CountReturnedUnits(ctx, l.db, db.CountReturnedUnitsParams{
		ShopID: shopID, HoldID: holdID, Skus: skus, VariantKeys: variants, LocationIds: locations, Sold: soldQ, Quantities: quantities,
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if database.IsCheckViolation(err) && errors.As(err, &pgErr) && pgErr.ConstraintName == "hold_returns_within_sale" {
			// placeReturn judged the tally under the hold's lock, so only a
			// path that skipped the lock gets here; the constraint stands.
			l.log.ErrorContext(ctx, "hold_returns_within_sale refused a return", "shop_id", shopID, "hold_id", holdID)
			return nil, false, &ReturnExceedsSaleError{SKU: items[0].SKU, VariantKey: items[0].VariantKey, Requested: items[0].Quantity}
		}
		return nil, false, l.dbError("count returned units", err)
	}
	if err := l.queries.InsertReturnItems(ctx, l.db, db.InsertReturnItemsParams{
		ShopID: shopID, ReturnID: ret.ID, Positions: positions, Skus: skus, VariantKeys: variants, LocationIds: locations, Quantities: quantities,
	}); err != nil {
		return nil, false, l.dbError("insert return items", err)
	}
	if req.Restock {
		moved, err := l.queries.RestockReturn(ctx, l.db, db.RestockReturnParams{
			ShopID: shopID, HoldID: &holdID, Skus: skus, VariantKeys: variants, LocationIds: locations, Quantities: quantities,
			Reference: ret.ID, Notes: req.Reason, CreatedBy: req.CreatedBy,
		})
		if err != nil {
			return nil, false, l.dbError("restock return", err)
		}
		if len(moved) != n {
			// Units were sold from these rows, so they exist: a missing one
			// means the ledger is not what the sale left.
			return nil, false, fmt.Errorf("restock return %s: %d of %d stock rows found", ret.ID, len(moved), n)
		}
	}
	l.log.InfoContext(ctx, "return recorded", "shop_id", shopID, "hold_id", holdID, "return_id", ret.ID,
		"restock", req.Restock, "reason", req.Reason)
	return ret, true, nil
}

type returnKey struct{ sku, variantKey, locationID string }

// placeReturn works out where each requested unit comes back to: the
// location the item names, or the line's locations in the order the hold
// drew on them. It refuses the first item that asks for more than is left
// to return, where it asked.
func placeReturn(sold []db.HoldSoldRow, requested []ReturnItem) ([]ReturnItem, error) {
	left := make(map[returnKey]int64, len(sold))
	for _, s := range sold {
		left[returnKey{s.Sku, s.VariantKey, s.LocationID}] = s.Sold - s.Returned
	}
	var out []ReturnItem
	index := map[returnKey]int{}
	take := func(k returnKey, q int64) {
		left[k] -= q
		if i, ok := index[k]; ok {
			out[i].Quantity += q
			return
		}
		index[k] = len(out)
		out = append(out, ReturnItem{SKU: k.sku, VariantKey: k.variantKey, LocationID: k.locationID, Quantity: q})
	}
	for _, it := range requested {
		if it.LocationID != "" {
			k := returnKey{it.SKU, it.VariantKey, it.LocationID}
			if left[k] < it.Quantity {
				return nil, &ReturnExceedsSaleError{SKU: it.SKU, VariantKey: it.VariantKey, LocationID: it.LocationID, Requested: it.Quantity, Returnable: left[k]}
			}
			take(k, it.Quantity)
			continue
		}
		var lineLeft int64
		for _, s := range sold {
			if s.Sku == it.SKU && s.VariantKey == it.VariantKey {
				lineLeft += left[returnKey{s.Sku, s.VariantKey, s.LocationID}]
			}
		}
		if lineLeft < it.Quantity {
			return nil, &ReturnExceedsSaleError{SKU: it.SKU, VariantKey: it.VariantKey, Requested: it.Quantity, Returnable: lineLeft}
		}
		need := it.Quantity
		for _, s := range sold {
			k := returnKey{s.Sku, s.VariantKey, s.LocationID}
			if s.Sku != it.SKU || s.VariantKey != it.VariantKey || left[k] == 0 || need == 0 {
				continue
			}
			q := min(need, left[k])
			take(k, q)
			need -= q
		}
	}
	return out, nil
}

// ListReturns returns a hold's returns, oldest first.
func (l *Ledger) ListReturns(ctx context.Context, shopID, holdID string) ([]Return, error) {
	if _, err := l.queries.GetHold(ctx, l.db, db.GetHoldParams{ShopID: shopID, ID: holdID}); errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrHoldNotFound
	} else if err != nil {
		return nil, l.dbError("get hold", err)
	}
	return l.returns(ctx, shopID, holdID, "")
}

// getReturn reads one return of the hold.
func (l *Ledger) getReturn(ctx context.Context, shopID, holdID, returnID string) (*Return, error) {
	rets, err := l.returns(ctx, shopID, holdID, returnID)
	if err != nil {
		return nil, err
	}
	if len(rets) != 1 {
		return nil, fmt.Errorf("read return %s: not found", returnID)
	}
	return &rets[0], nil
}

// returns reads the hold's returns, only returnID's when it is set.
func (l *Ledger) returns(ctx context.Context, shopID, holdID, returnID string) ([]Return, error) {
	rows, err := l.queries.ListHoldReturns(ctx, l.db, db.ListHoldReturnsParams{ShopID: shopID, HoldID: holdID})
	if err != nil {
		return nil, l.dbError("list returns", err)
	}
	out := make([]Return, 0, len(rows))
	at := map[string]int{}
	var retIDs []string
	for _, r := range rows {
		if returnID != "" && r.ID != returnID {
			continue
		}
		at[r.ID] = len(out)
		retIDs = append(retIDs, r.ID)
		out = append(out, Return{ID: r.ID, HoldID: holdID, Items: []ReturnItem{}, Restock: r.Restock, Reason: r.Reason, CreatedAt: r.CreatedAt.UTC()})
	}
	if len(retIDs) == 0 {
		return out, nil
	}
	items, err := l.queries.ListReturnItems(ctx, l.db, db.ListReturnItemsParams{ShopID: shopID, ReturnIds: retIDs})
	if err != nil {
		return nil, l.dbError("list return items", err)
	}
	for _, it := range items {
		r := &out[at[it.ReturnID]]
		r.Items = append(r.Items, ReturnItem{SKU: it.Sku, VariantKey: it.VariantKey, LocationID: it.LocationID, Quantity: it.Quantity})
	}
	return out, nil
}
