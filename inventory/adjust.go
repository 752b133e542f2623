package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// Op is how a stock change moves on_hand.
type Op string

// The stock change operations.
const (
	OpSet       Op = "set"
	OpIncrement Op = "increment"
	OpDecrement Op = "decrement"
)

// MovementType classifies a movement in the ledger.
type MovementType string

// The movement types.
const (
	MovementPurchaseOrder MovementType = "PURCHASE_ORDER"
	MovementSale          MovementType = "SALE"
	MovementReturn        MovementType = "RETURN"
	MovementAdjustment    MovementType = "ADJUSTMENT"
	MovementReservation   MovementType = "RESERVATION"
	MovementRelease       MovementType = "RELEASE"
	MovementDamage        MovementType = "DAMAGE"
	MovementTransfer      MovementType = "TRANSFER"
)

// StockChange changes on_hand of one line at one location.
type StockChange struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	// LocationID defaults to the default location.
	LocationID string `json:"locationId"`
	Op         Op     `json:"op"`
	// Quantity is 1 to 1,000,000; a set may also be 0.
	Quantity int64 `json:"quantity"`
	// Type is ADJUSTMENT (the default), PURCHASE_ORDER, RETURN or DAMAGE.
	Type  MovementType `json:"type"`
	Notes string       `json:"notes"`
	// ExpectedOnHand, on a set only, is the on-hand the count started from:
	// if the row has another when the set runs, the batch fails with a
	// *StaleCountError. Left out of the JSON when nil, so the idempotency
	// hash of a request without it is what it was before the field existed.
	ExpectedOnHand *int64 `json:"expectedOnHand,omitempty"`
}

// AdjustRequest is a batch of stock changes applied all together or not at
// all.
type AdjustRequest struct {
	Reference      string        `json:"reference"`
	CreatedBy      string        `json:"createdBy"`
	IdempotencyKey string        `json:"idempotencyKey"`
	Changes        []StockChange `json:"changes"`
}

// ChangeResult is what a batch of stock changes did.
type ChangeResult struct {
	Applied   int        `json:"applied"`
	Movements []Movement `json:"movements"`
}

// Adjust applies a batch of stock changes in one transaction: every change,
// or none. Unknown lines are created by set and increment. A change that
// would leave on_hand below what is reserved at that location fails the
// batch with a *StockConflictError; a set whose ExpectedOnHand is not the
// row's on_hand when it runs fails it with a *StaleCountError. With an IdempotencyKey, a repeat of the
// same request returns the first result and a different request under the
// same key is ErrIdempotencyConflict.
func (l *Ledger) Adjust(ctx context.Context, shopID string, req AdjustRequest) (*ChangeResult, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.text("reference", req.Reference, maxTextLen)
	c.text("createdBy", req.CreatedBy, maxTextLen)
	c.text("idempotencyKey", req.IdempotencyKey, maxTextLen)
	c.itemCount("changes", len(req.Changes))
	changes := make([]rowChange, 0, len(req.Changes))
	for i, ch := range req.Changes {
		if i >= MaxItems {
			break
		}
		f := fmt.Sprintf("changes[%d]", i)
		if ch.LocationID == "" {
			ch.LocationID = DefaultLocation
		}
		if ch.Type == "" {
			ch.Type = MovementAdjustment
		}
		c.sku(f+".sku", ch.SKU)
		c.variantKey(f+".variantKey", ch.VariantKey)
		c.locationID(f+".locationId", ch.LocationID)
		switch ch.Op {
		case OpSet:
			c.quantity(f+".quantity", ch.Quantity, 0)
		case OpIncrement, OpDecrement:
			c.quantity(f+".quantity", ch.Quantity, 1)
		default:
			c.add(f+".op", "must be set, increment or decrement")
		}
		if ch.ExpectedOnHand != nil {
			switch {
			case ch.Op != OpSet:
				c.add(f+".expectedOnHand", "is only allowed with op set")
			case *ch.ExpectedOnHand < 0:
				c.add(f+".expectedOnHand", "must be an integer of 0 or more")
			}
		}
		switch ch.Type {
		case MovementAdjustment, MovementPurchaseOrder, MovementReturn, MovementDamage:
		default:
			c.add(f+".type", "must be ADJUSTMENT, PURCHASE_ORDER, RETURN or DAMAGE")
		}
		c.text(f+".notes", ch.Notes, maxNotesLen)
		changes = append(changes, rowChange{field: f, locationField: f + ".locationId", StockChange: ch})
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return l.applyChanges(ctx, shopID, "adjustments", req.IdempotencyKey, req, changes, req.Reference, req.CreatedBy)
}

// ReceiptItem is stock received into a location.
type ReceiptItem struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	// LocationID defaults to the default location.
	LocationID string `json:"locationId"`
	Quantity   int64  `json:"quantity"`
}

// ReceiptRequest books the arrival of a purchase order.
type ReceiptRequest struct {
	PurchaseOrderID string        `json:"purchaseOrderId"`
	Items           []ReceiptItem `json:"items"`
	CreatedBy       string        `json:"createdBy"`
	IdempotencyKey  string        `json:"idempotencyKey"`
}

// Receive adds received stock with PURCHASE_ORDER movements referencing the
// purchase order, all items or none. The same purchase order may be received
// in parts; use IdempotencyKey to make a retried receipt safe.
func (l *Ledger) Receive(ctx context.Context, shopID string, req ReceiptRequest) (*ChangeResult, error) {
	var c checker
	c.shopID("shopId", shopID)
	if req.PurchaseOrderID == "" {
		c.add("purchaseOrderId", "is required")
	}
	c.text("purchaseOrderId", req.PurchaseOrderID, maxTextLen)
	c.text("createdBy", req.CreatedBy, maxTextLen)
	c.text("idempotencyKey", req.IdempotencyKey, maxTextLen)
	c.itemCount("items", len(req.Items))
	changes := make([]rowChange, 0, len(req.Items))
	for i, it := range req.Items {
		if i >= MaxItems {
			break
		}
		f := fmt.Sprintf("items[%d]", i)
		if it.LocationID == "" {
			it.LocationID = DefaultLocation
		}
		c.sku(f+".sku", it.SKU)
		c.variantKey(f+".variantKey", it.VariantKey)
		c.locationID(f+".locationId", it.LocationID)
		c.quantity(f+".quantity", it.Quantity, 1)
		changes = append(changes, rowChange{field: f, locationField: f + ".locationId", StockChange: StockChange{
			SKU: it.SKU, VariantKey: it.VariantKey, LocationID: it.LocationID,
			Op: OpIncrement, Quantity: it.Quantity, Type: MovementPurchaseOrder,
		}})
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return l.applyChanges(ctx, shopID, "receipts", req.IdempotencyKey, req, changes, req.PurchaseOrderID, req.CreatedBy)
}

// TransferRequest moves stock between two of a shop's locations.
type TransferRequest struct {
	FromLocationID string `json:"fromLocationId"`
	ToLocationID   string `json:"toLocationId"`
	Reference      string `json:"reference"`
	Items          []Line `json:"items"`
	CreatedBy      string `json:"createdBy"`
	IdempotencyKey string `json:"idempotencyKey"`
}

// Transfer moves stock between locations with a pair of TRANSFER movements
// per line, all lines or none. The source must have the units unreserved;
// otherwise it is a *StockConflictError.
func (l *Ledger) Transfer(ctx context.Context, shopID string, req TransferRequest) (*ChangeResult, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.locationID("fromLocationId", req.FromLocationID)
	c.locationID("toLocationId", req.ToLocationID)
	if req.FromLocationID == req.ToLocationID {
		c.add("toLocationId", "must differ from fromLocationId")
	}
	c.text("reference", req.Reference, maxTextLen)
	c.text("createdBy", req.CreatedBy, maxTextLen)
	c.text("idempotencyKey", req.IdempotencyKey, maxTextLen)
	c.lines("items", req.Items)
	if err := c.err(); err != nil {
		return nil, err
	}
	changes := make([]rowChange, 0, 2*len(req.Items))
	for i, it := range req.Items {
		f := fmt.Sprintf("items[%d]", i)
		out := StockChange{SKU: it.SKU, VariantKey: it.VariantKey, LocationID: req.FromLocationID, Op: OpDecrement, Quantity: it.Quantity, Type: MovementTransfer}
		in := out
		in.LocationID, in.Op = req.ToLocationID, OpIncrement
		changes = append(changes,
			rowChange{field: f, locationField: "fromLocationId", StockChange: out},
			rowChange{field: f, locationField: "toLocationId", StockChange: in})
	}
	return l.applyChanges(ctx, shopID, "transfers", req.IdempotencyKey, req, changes, req.Reference, req.CreatedBy)
}

// rowChange is a stock change with the request fields it came from, for
// error details.
type rowChange struct {
	StockChange
	field         string
	locationField string
}

// applyChanges runs changes in one transaction, in lock order, under an
// optional idempotency key scoped to the kind of request.
func (l *Ledger) applyChanges(ctx context.Context, shopID, scope, key string, request any, changes []rowChange, reference, createdBy string) (*ChangeResult, error) {
	// Stable, so several changes to one row keep the order they were given.
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].rowKey() < changes[j].rowKey() })
	var hash []byte
	if key != "" {
		body, err := json.Marshal(request)
		if err != nil {
			return nil, fmt.Errorf("hash request: %w", err)
		}
		sum := sha256.Sum256(body)
		hash = sum[:]
	}

	result, err := l.applyChangesOnce(ctx, shopID, scope, key, hash, changes, reference, createdBy)
	var conflict *StockConflictError
	if errors.As(err, &conflict) {
		// Lapsed holds no longer count as reserved, but they still do in the
		// row until they are closed: close those on the line, and try again.
		if err := l.expireLapsedOnLines(ctx, shopID, []lineKey{{conflict.SKU, conflict.VariantKey}}); err != nil {
			return nil, err
		}
		result, err = l.applyChangesOnce(ctx, shopID, scope, key, hash, changes, reference, createdBy)
	}
	if err != nil {
		return nil, err
	}
	l.log.InfoContext(ctx, "stock changed", "shop_id", shopID, "kind", scope, "changes", len(changes), "reference", reference)
	return result, nil
}

// applyChangesOnce runs the changes in one transaction.
func (l *Ledger) applyChangesOnce(ctx context.Context, shopID, scope, key string, hash []byte, changes []rowChange, reference, createdBy string) (*ChangeResult, error) {
	var result *ChangeResult
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		if key != "" {
			replay, err := l.claimKey(ctx, tx, shopID, scope, key, hash)
			if err != nil || replay != nil {
				result = replay
				return err
			}
		}
		if err := l.ensureRows(ctx, tx, shopID, changes); err != nil {
			return err
		}
		result = &ChangeResult{Movements: make([]Movement, 0, len(changes))}
		// A stale set writes nothing, so the changes after it still run:
		// the answer then names every stale count, not just the first, and
		// the transaction is rolled back all the same.
		var stale []StaleCount
		for _, ch := range changes {
			row, err := l.queries.ApplyStockChange(ctx, tx, db.ApplyStockChangeParams{
				ShopID: shopID, Sku: ch.SKU, VariantKey: ch.VariantKey, LocationID: ch.LocationID,
				Op: string(ch.Op), Quantity: ch.Quantity, ExpectedOnHand: ch.ExpectedOnHand, Type: string(ch.Type),
				Reference: reference, Notes: ch.Notes, CreatedBy: createdBy,
			})
			if len(stale) > 0 && (errors.Is(err, pgx.ErrNoRows) || stockCheckConflict(err) != nil) {
				// A stale count already dooms the batch; a conflict further
				// on was judged against stock the count did not see.
				return &StaleCountError{Lines: stale}
			}
			if errors.Is(err, pgx.ErrNoRows) {
				return &StockConflictError{SKU: ch.SKU, VariantKey: ch.VariantKey, LocationID: ch.LocationID, Reason: "the location has never stocked this line"}
			}
			if conflict := stockCheckConflict(err); conflict != nil {
				conflict.SKU, conflict.VariantKey, conflict.LocationID = ch.SKU, ch.VariantKey, ch.LocationID
				return conflict
			}
			if err != nil {
				return err
			}
			if row.Stale {
				stale = append(stale, StaleCount{SKU: ch.SKU, VariantKey: ch.VariantKey, LocationID: ch.LocationID,
					ExpectedOnHand: *ch.ExpectedOnHand, OnHand: row.OldOnHand})
				continue
			}
			if len(stale) > 0 {
				continue
			}
			if !row.Ok {
				return &StockConflictError{SKU: ch.SKU, VariantKey: ch.VariantKey, LocationID: ch.LocationID,
					Reason: fmt.Sprintf("on hand would be %d, below the %d reserved", row.NewOnHand, row.Reserved)}
			}
			result.Movements = append(result.Movements, Movement{
				ID: strconv.FormatInt(row.MovementID, 10), SKU: ch.SKU, VariantKey: ch.VariantKey, LocationID: ch.LocationID,
				Type: ch.Type, Quantity: row.MovementQuantity, Reference: reference, Notes: ch.Notes, CreatedBy: createdBy,
				CreatedAt: row.CreatedAt.UTC(),
			})
		}
		if len(stale) > 0 {
			return &StaleCountError{Lines: stale}
		}
		result.Applied = len(changes)
		if key != "" {
			body, err := json.Marshal(result)
			if err != nil {
				return fmt.Errorf("encode result: %w", err)
			}
			return l.queries.StoreIdempotentResponse(ctx, tx, db.StoreIdempotentResponseParams{ShopID: shopID, Scope: scope, Key: key, Response: body})
		}
		return nil
	})
	var conflict *StockConflictError
	var stale *StaleCountError
	var invalid *checkoutd.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &conflict), errors.As(err, &stale), errors.As(err, &invalid), errors.Is(err, ErrIdempotencyConflict), errors.Is(err, checkoutd.ErrShopNotFound):
		return nil, err
	default:
		return nil, l.dbError("apply stock changes", err)
	}
	return result, nil
}

func (ch rowChange) rowKey() string {
	return ch.SKU + "\x00" + ch.VariantKey + "\x00" + ch.LocationID
}

// claimKey claims an idempotency key in tx. It returns the stored result of
// an earlier identical request, nil when the key is new, or
// ErrIdempotencyConflict.
func (l *Ledger) claimKey(ctx context.Context, tx pgx.Tx, shopID, scope, key string, hash []byte) (*ChangeResult, error) {
	_, err := l.queries.ClaimIdempotencyKey(ctx, tx, db.ClaimIdempotencyKeyParams{ShopID: shopID, Scope: scope, Key: key, RequestHash: hash})
	switch {
	case err == nil:
		return nil, nil
	case database.IsForeignKeyViolation(err):
		return nil, checkoutd.ErrShopNotFound
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, err
	}
	stored, err := l.queries.GetIdempotencyKey(ctx, tx, db.GetIdempotencyKeyParams{ShopID: shopID, Scope: scope, Key: key})
	if err != nil {
		return nil, err
	}
	if string(stored.RequestHash) != string(hash) {
		return nil, ErrIdempotencyConflict
	}
	var res ChangeResult
	if err := json.Unmarshal(stored.Response, &res); err != nil {
		return nil, fmt.Errorf("decode stored result: %w", err)
	}
	return &res, nil
}

// ensureRows checks that every named location exists, then creates the lines
// and rows that set and increment may bring into being.
func (l *Ledger) ensureRows(ctx context.Context, tx pgx.Tx, shopID string, changes []rowChange) error {
	locationIDs := make([]string, 0, len(changes))
	fields := make(map[string]string, len(changes))
	var skus, variantKeys, rowLocations []string
	for _, ch := range changes {
		if _, seen := fields[ch.LocationID]; !seen {
			fields[ch.LocationID] = ch.locationField
			locationIDs = append(locationIDs, ch.LocationID)
		}
		if ch.Op != OpDecrement {
			skus = append(skus, ch.SKU)
			variantKeys = append(variantKeys, ch.VariantKey)
			rowLocations = append(rowLocations, ch.LocationID)
		}
	}
	if err := l.requireShop(ctx, shopID); err != nil {
		return err
	}
	missing, err := l.queries.MissingLocations(ctx, tx, db.MissingLocationsParams{ShopID: shopID, LocationIds: locationIDs})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		var c checker
		for _, id := range missing {
			c.add(fields[id], "the shop has no location %q", id)
		}
		return c.err()
	}
	if len(skus) == 0 {
		return nil
	}
	return l.queries.EnsureStockLevels(ctx, tx, db.EnsureStockLevelsParams{ShopID: shopID, Skus: skus, VariantKeys: variantKeys, LocationIds: rowLocations})
}
