package inventory

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/page"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// ValidateResult says whether every line could be held right now.
type ValidateResult struct {
	OK           bool        `json:"ok"`
	Insufficient []Shortfall `json:"insufficient,omitempty"`
}

// Validate checks, without holding anything, whether a hold on lines would
// succeed now. Lines naming the same stock line are summed; a line the shop
// has never stocked counts as available 0.
func (l *Ledger) Validate(ctx context.Context, shopID string, lines []Line) (*ValidateResult, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.lines("items", lines)
	if err := c.err(); err != nil {
		return nil, err
	}
	op := &validateOp{shopID: shopID, lines: mergeLines(lines)}
	if err := l.validateLines(ctx, op); err != nil {
		return nil, l.dbError("validate", err)
	}
	res := &ValidateResult{OK: true}
	for i, m := range op.lines {
		a := op.answers[i]
		if !a.shopExists {
			return nil, checkoutd.ErrShopNotFound
		}
		if a.available < m.Quantity {
			res.OK = false
			res.Insufficient = append(res.Insufficient, Shortfall{SKU: m.SKU, VariantKey: m.VariantKey, Requested: m.Quantity, Available: a.available})
		}
	}
	return res, nil
}

// StockInfo is a stock line's position across the shop's locations.
// Available is OnHand - Reserved - SafetyStock, never below 0, and does not
// count lapsed holds as reserved.
type StockInfo struct {
	SKU               string `json:"sku"`
	VariantKey        string `json:"variantKey"`
	OnHand            int64  `json:"onHand"`
	Reserved          int64  `json:"reserved"`
	Available         int64  `json:"available"`
	SafetyStock       int64  `json:"safetyStock"`
	LowStockThreshold int64  `json:"lowStockThreshold"`
	LowStock          bool   `json:"lowStock"`
	BackorderAllowed  bool   `json:"backorderAllowed"`
	BackorderLimit    int64  `json:"backorderLimit"`
	// MaxPerOrder and MaxPerCustomer are the line's purchase limits, 0
	// for none (see Reserve).
	MaxPerOrder    int64           `json:"maxPerOrder"`
	MaxPerCustomer int64           `json:"maxPerCustomer"`
	Locations      []LocationStock `json:"locations"`
}

// LocationStock is a stock line's position at one location.
type LocationStock struct {
	LocationID string `json:"locationId"`
	OnHand     int64  `json:"onHand"`
	Reserved   int64  `json:"reserved"`
	Available  int64  `json:"available"`
}

// StockInfo returns one stock line, or a *StockLineNotFoundError
// (checkoutd.ErrShopNotFound for an unknown shop).
func (l *Ledger) StockInfo(ctx context.Context, shopID, sku, variantKey string) (*StockInfo, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.sku("sku", sku)
	c.variantKey("variantKey", variantKey)
	if err := c.err(); err != nil {
		return nil, err
	}
	op := &stockReadOp{line: shopLine{shopID, lineKey{sku, variantKey}}, threshold: l.cfg.DefaultLowStockThreshold}
	if err := l.read(ctx, op); err != nil {
		return nil, l.dbError("read stock", err)
	}
	if len(op.rows) == 0 {
		return nil, l.stockLineNotFound(ctx, shopID, sku, variantKey)
	}
	return stockLineInfo(op.rows), nil
}

// stockLineInfo is the StockInfo of one line's GetStockLineGroup rows.
func stockLineInfo(rows []db.GetStockLineGroupRow) *StockInfo {
	line := stockLineRow{Sku: rows[0].Sku, VariantKey: rows[0].VariantKey, SafetyStock: rows[0].SafetyStock, LowStockThreshold: rows[0].LowStockThreshold,
		MaxPerOrder: rows[0].MaxPerOrder, MaxPerCustomer: rows[0].MaxPerCustomer}
	var locations []LocationStock
	for _, r := range rows {
		if !r.Stocked {
			continue
		}
		line.OnHand += r.OnHand
		line.Reserved += r.Reserved
		line.BackorderLimit += r.BackorderLimit
		locations = append(locations, LocationStock{
			LocationID: r.LocationID,
			OnHand:     r.OnHand,
			Reserved:   r.Reserved,
			Available:  max(r.OnHand-r.Reserved, 0),
		})
	}
	info := newStockInfo(line)
	if locations != nil {
		info.Locations = locations
	}
	return &info
}

// maxVariantKeyHints bounds the variant keys a StockLineNotFoundError names:
// enough to show a client the keys' shape, few enough for any error body.
const maxVariantKeyHints = 5

// StockLineNotFoundError is what StockInfo returns for a line the shop has
// never stocked or configured; errors.Is(err, ErrStockLineNotFound) holds.
// A client that omits variantKey for a sku stocked only as variants, or
// spells the key differently, meets it most; OtherVariantKeys tells it the
// keys the sku does have.
type StockLineNotFoundError struct {
	SKU        string
	VariantKey string
	// OtherVariantKeys are the sku's first variant keys in byte order, at
	// most maxVariantKeyHints; empty when the shop has no line of the sku.
	OtherVariantKeys []string
	// More says the sku has variant keys beyond OtherVariantKeys.
	More bool
}

func (e *StockLineNotFoundError) Error() string {
	msg := fmt.Sprintf("stock line not found: sku %q, variant key %q", e.SKU, e.VariantKey)
	if len(e.OtherVariantKeys) > 0 {
		msg += fmt.Sprintf(" (the sku has variant keys %q", e.OtherVariantKeys)
		if e.More {
			msg += " and more"
		}
		msg += ")"
	}
	return msg
}

// Is makes the error match ErrStockLineNotFound.
func (e *StockLineNotFoundError) Is(target error) bool {
	return target == ErrStockLineNotFound
}

// stockLineNotFound explains a StockInfo miss: the sku's other variant keys
// if it has any, else whether the shop exists at all. Only misses pay for
// these reads.
func (l *Ledger) stockLineNotFound(ctx context.Context, shopID, sku, variantKey string) error {
	keys, err := l.queries.SkuVariantKeys(ctx, l.db, db.SkuVariantKeysParams{ShopID: shopID, Sku: sku, Max: maxVariantKeyHints + 2})
	if err != nil {
		return l.dbError("look up variant keys", err)
	}
	// The line itself may have been created since it was missed.
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == variantKey })
	if len(keys) == 0 {
		if err := l.requireShop(ctx, shopID); err != nil {
			return err
		}
	}
	e := &StockLineNotFoundError{SKU: sku, VariantKey: variantKey, OtherVariantKeys: keys}
	if len(keys) > maxVariantKeyHints {
		e.OtherVariantKeys, e.More = keys[:maxVariantKeyHints], true
	}
	return e
}

// ListStockOptions selects a page of stock lines.
type ListStockOptions struct {
	// LowStockOnly keeps lines whose available stock is at or below their
	// low-stock threshold.
	LowStockOnly bool
	// Limit is the page size, 1 to 500 (default 100).
	Limit int
	// Cursor is the NextCursor of the previous page, "" for the first.
	Cursor string
}

// StockPage is a page of stock lines in (sku, variant key) order.
type StockPage struct {
	Items      []StockInfo `json:"items"`
	NextCursor *string     `json:"nextCursor"`
}

// ListStock returns a page of the shop's stock lines.
func (l *Ledger) ListStock(ctx context.Context, shopID string, opts ListStockOptions) (*StockPage, error) {
	var c checker
	c.shopID("shopId", shopID)
	limit := pageLimit(&c, opts.Limit)
	var after stockCursor
	if opts.Cursor != "" && page.DecodeCursor(opts.Cursor, &after) != nil {
		c.add("cursor", page.CursorIssue)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.ListStockLines(ctx, l.db, db.ListStockLinesParams{
		ShopID:           shopID,
		DefaultThreshold: l.cfg.DefaultLowStockThreshold,
		AfterSku:         after.SKU,
		AfterVariantKey:  after.VariantKey,
		LowStockOnly:     opts.LowStockOnly,
		Max:              int32(limit + 1),
	})
	if err != nil {
		return nil, l.dbError("list stock", err)
	}
	lines := make([]stockLineRow, len(rows))
	for i, r := range rows {
		lines[i] = stockLineRow(r)
	}
	return l.stockPage(ctx, shopID, lines, limit)
}

type stockCursor struct {
	SKU        string `json:"s"`
	VariantKey string `json:"v"`
}

// stockLineRow is a line's totals across locations.
type stockLineRow db.ListStockLinesRow

// stockInfos reads the given lines, in (sku, variant key) order; unknown
// lines are left out.
func (l *Ledger) stockInfos(ctx context.Context, conn db.DBTX, shopID string, keys []lineKey) ([]StockInfo, error) {
	skus := make([]string, len(keys))
	variantKeys := make([]string, len(keys))
	for i, k := range keys {
		skus[i], variantKeys[i] = k.sku, k.variantKey
	}
	rows, err := l.queries.GetStockLines(ctx, conn, db.GetStockLinesParams{
		ShopID:           shopID,
		Skus:             skus,
		VariantKeys:      variantKeys,
		DefaultThreshold: l.cfg.DefaultLowStockThreshold,
	})
	if err != nil {
		return nil, l.dbError("read stock", err)
	}
	lines := make([]stockLineRow, len(rows))
	for i, r := range rows {
		lines[i] = stockLineRow(r)
	}
	return l.withLocations(ctx, conn, shopID, lines)
}

// withLocations completes line totals with their per-location rows.
func (l *Ledger) withLocations(ctx context.Context, conn db.DBTX, shopID string, lines []stockLineRow) ([]StockInfo, error) {
	skus := make([]string, len(lines))
	variantKeys := make([]string, len(lines))
	infos := make([]StockInfo, len(lines))
	index := make(map[lineKey]int, len(lines))
	for i, r := range lines {
		skus[i], variantKeys[i] = r.Sku, r.VariantKey
		index[lineKey{r.Sku, r.VariantKey}] = i
		infos[i] = newStockInfo(r)
	}
	levels, err := l.queries.ListStockLevels(ctx, conn, db.ListStockLevelsParams{ShopID: shopID, Skus: skus, VariantKeys: variantKeys})
	if err != nil {
		return nil, l.dbError("read stock locations", err)
	}
	for _, lv := range levels {
		info := &infos[index[lineKey{lv.Sku, lv.VariantKey}]]
		info.Locations = append(info.Locations, LocationStock{
			LocationID: lv.LocationID,
			OnHand:     lv.OnHand,
			Reserved:   lv.Reserved,
			Available:  max(lv.OnHand-lv.Reserved, 0),
		})
	}
	return infos, nil
}

// newStockInfo is the StockInfo of a line's totals, without its locations.
func newStockInfo(r stockLineRow) StockInfo {
	available := max(r.OnHand-r.Reserved-r.SafetyStock, 0)
	return StockInfo{
		SKU:               r.Sku,
		VariantKey:        r.VariantKey,
		OnHand:            r.OnHand,
		Reserved:          r.Reserved,
		Available:         available,
		SafetyStock:       r.SafetyStock,
		LowStockThreshold: r.LowStockThreshold,
		LowStock:          available <= r.LowStockThreshold,
		BackorderAllowed:  r.BackorderLimit > 0,
		BackorderLimit:    r.BackorderLimit,
		MaxPerOrder:       r.MaxPerOrder,
		MaxPerCustomer:    r.MaxPerCustomer,
		Locations:         []LocationStock{},
	}
}

// StockSettings changes a line's settings; nil fields are left as they are.
type StockSettings struct {
	LowStockThreshold *int64 `json:"lowStockThreshold"`
	SafetyStock       *int64 `json:"safetyStock"`
	BackorderLimit    *int64 `json:"backorderLimit"`
	// MaxPerOrder caps the units of the line one hold may ask for;
	// MaxPerCustomer the units one customer may hold or buy within the
	// purchase-limit window. 0 is no limit.
	MaxPerOrder    *int64 `json:"maxPerOrder"`
	MaxPerCustomer *int64 `json:"maxPerCustomer"`
}

// UpdateSettings changes a stock line's settings, creating the line if the
// shop has not stocked it yet (so a pre-order line can be configured before
// stock arrives). Lowering the backorder limit below what is already
// backordered is a *StockConflictError.
func (l *Ledger) UpdateSettings(ctx context.Context, shopID, sku, variantKey string, s StockSettings) (*StockInfo, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.sku("sku", sku)
	c.variantKey("variantKey", variantKey)
	for _, f := range []struct {
		name string
		v    *int64
	}{{"lowStockThreshold", s.LowStockThreshold}, {"safetyStock", s.SafetyStock}, {"backorderLimit", s.BackorderLimit},
		{"maxPerOrder", s.MaxPerOrder}, {"maxPerCustomer", s.MaxPerCustomer}} {
		if f.v != nil && (*f.v < 0 || *f.v > MaxQuantity) {
			c.add(f.name, "must be an integer from 0 to %d", MaxQuantity)
		}
	}
	if s.LowStockThreshold == nil && s.SafetyStock == nil && s.BackorderLimit == nil && s.MaxPerOrder == nil && s.MaxPerCustomer == nil {
		c.add("body", "must set at least one of lowStockThreshold, safetyStock, backorderLimit, maxPerOrder, maxPerCustomer")
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	info, err := l.updateSettingsOnce(ctx, shopID, sku, variantKey, s)
	var conflict *StockConflictError
	if errors.As(err, &conflict) {
		// Lapsed holds' backorders no longer count, but do in the row until
		// the holds are closed: close them, and try again.
		if err := l.expireLapsedOnLines(ctx, shopID, []lineKey{{sku, variantKey}}); err != nil {
			return nil, err
		}
		info, err = l.updateSettingsOnce(ctx, shopID, sku, variantKey, s)
	}
	if err != nil {
		return nil, err
	}
	l.log.InfoContext(ctx, "stock settings updated", "shop_id", shopID, "sku", sku, "variant_key", variantKey)
	return info, nil
}

func (l *Ledger) updateSettingsOnce(ctx context.Context, shopID, sku, variantKey string, s StockSettings) (*StockInfo, error) {
	var info *StockInfo
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		locations := []string{DefaultLocation}
		if err := l.queries.EnsureStockLevels(ctx, tx, db.EnsureStockLevelsParams{
			ShopID: shopID, Skus: []string{sku}, VariantKeys: []string{variantKey}, LocationIds: locations,
		}); err != nil {
			return err
		}
		if _, err := l.queries.UpdateStockLineSettings(ctx, tx, db.UpdateStockLineSettingsParams{
			ShopID: shopID, Sku: sku, VariantKey: variantKey,
			SafetyStock: s.SafetyStock, LowStockThreshold: s.LowStockThreshold,
			MaxPerOrder: s.MaxPerOrder, MaxPerCustomer: s.MaxPerCustomer,
		}); err != nil {
			return err
		}
		// A higher threshold or safety stock can make the line low without
		// any stock moving: ask for a check as a stock change would.
		if s.LowStockThreshold != nil || s.SafetyStock != nil {
			if err := l.queries.RequestStockCheck(ctx, tx, db.RequestStockCheckParams{ShopID: shopID, Sku: sku, VariantKey: variantKey}); err != nil {
				return err
			}
		}
		if s.BackorderLimit != nil {
			err := l.queries.SetBackorderLimit(ctx, tx, db.SetBackorderLimitParams{
				ShopID: shopID, Sku: sku, VariantKey: variantKey, BackorderLimit: *s.BackorderLimit,
			})
			if database.IsCheckViolation(err) {
				return &StockConflictError{SKU: sku, VariantKey: variantKey, LocationID: DefaultLocation,
					Reason: "more units are already backordered than the new backorder limit allows"}
			}
			if err != nil {
				return err
			}
		}
		infos, err := l.stockInfos(ctx, tx, shopID, []lineKey{{sku, variantKey}})
		if err != nil {
			return err
		}
		info = &infos[0]
		return nil
	})
	var conflict *StockConflictError
	switch {
	case errors.As(err, &conflict):
		return nil, err
	case database.IsForeignKeyViolation(err):
		return nil, checkoutd.ErrShopNotFound
	case err != nil:
		return nil, l.dbError("update stock settings", err)
	}
	return info, nil
}

// pageLimit checks a requested page size and applies the default.
func pageLimit(c *checker, requested int) int {
	limit, ok := page.Limit(requested)
	if !ok {
		c.add("limit", "%s", page.LimitIssue)
	}
	return limit
}
