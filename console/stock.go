package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

// stockPageSize is how many lines the stock list shows at a time.
const stockPageSize = 50

type stockListData struct {
	Query       string
	Location    string
	Low         bool
	Backordered bool
	Locations   []inventory.Location
	Lines       []inventory.StockInfo
	// Next is the address of the next page, "" on the last.
	Next   string
	Errors map[string]string
}

// stockList lists the shop's lines, searched and filtered.
func (c *Console) stockList(w http.ResponseWriter, r *http.Request) {
	ctx, shop, q := r.Context(), shopOf(r), r.URL.Query()
	d := stockListData{
		Query: strings.TrimSpace(q.Get("q")), Location: q.Get("location"),
		Low: q.Get("low") == "1", Backordered: q.Get("backordered") == "1",
	}
	locations, err := c.ledger.ListLocations(ctx, shop)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Locations = locations
	res, err := c.ledger.SearchStock(ctx, shop, inventory.StockSearch{
		Word: d.Query, LocationID: d.Location, LowStockOnly: d.Low, BackorderedOnly: d.Backordered,
		Limit: stockPageSize, Cursor: q.Get("cursor"),
	})
	var invalid *checkoutd.ValidationError
	if errors.As(err, &invalid) {
		d.Errors = fieldErrors(invalid)
		c.render(w, r, http.StatusBadRequest, "stock", "Stock", d)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Lines = res.Items
	if res.NextCursor != nil {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", *res.NextCursor)
		d.Next = shopURL(shop, "/stock?"+next.Encode())
	}
	c.render(w, r, http.StatusOK, "stock", "Stock", d)
}

type lineData struct {
	Info      *inventory.StockInfo
	Locations []inventory.Location
	Holds     []inventory.LineHold
	Movements []inventory.Movement
	// MoreMovements is the address of the line's older movements.
	MoreMovements string
	// Form is the settings form as submitted, when it was refused.
	Form    map[string]string
	Errors  map[string]string
	Saved   bool
	Receipt receiptDefaults
}

// receiptDefaults prefill the line page's receipt form.
type receiptDefaults struct {
	Key string
}

// stockLine shows one line: levels per location, settings, holds, ledger.
func (c *Console) stockLine(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := lineData{Saved: q.Get("saved") == "1"}
	c.renderLine(w, r, http.StatusOK, q.Get("sku"), q.Get("variant"), &d)
}

func (c *Console) renderLine(w http.ResponseWriter, r *http.Request, status int, sku, variantKey string, d *lineData) {
	ctx, shop := r.Context(), shopOf(r)
	info, err := c.ledger.StockInfo(ctx, shop, sku, variantKey)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Info = info
	if d.Locations, err = c.ledger.ListLocations(ctx, shop); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Holds, err = c.ledger.LineHolds(ctx, shop, sku, variantKey, 50); err != nil {
		c.fail(w, r, err)
		return
	}
	cursor := r.URL.Query().Get("cursor")
	moves, err := c.ledger.Movements(ctx, shop, inventory.MovementsOptions{SKU: sku, VariantKey: &variantKey, Limit: 50, Cursor: cursor})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Movements = moves.Items
	if moves.NextCursor != nil {
		d.MoreMovements = shopURL(shop, "/stock/line?"+url.Values{"sku": {sku}, "variant": {variantKey}, "cursor": {*moves.NextCursor}}.Encode())
	}
	d.Receipt.Key = newIdempotencyKey()
	c.render(w, r, status, "line", sku+" "+variantKey, d)
}

// stockSettings changes a line's settings with Ledger.UpdateSettings.
func (c *Console) stockSettings(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r) || !c.checkCSRF(w, r) {
		return
	}
	f := r.PostForm
	sku, variantKey := f.Get("sku"), f.Get("variant")
	form := map[string]string{}
	errs := map[string]string{}
	var s inventory.StockSettings
	for _, field := range []struct {
		name string
		dst  **int64
	}{{"lowStockThreshold", &s.LowStockThreshold}, {"safetyStock", &s.SafetyStock}, {"backorderLimit", &s.BackorderLimit}} {
		v := strings.TrimSpace(f.Get(field.name))
		form[field.name] = v
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs[field.name] = "must be a whole number"
			continue
		}
		*field.dst = &n
	}
	if len(errs) == 0 {
		_, err := c.ledger.UpdateSettings(r.Context(), shopOf(r), sku, variantKey, s)
		var invalid *checkoutd.ValidationError
		var conflict *inventory.StockConflictError
		switch {
		case errors.As(err, &invalid):
			errs = fieldErrors(invalid)
		case errors.As(err, &conflict):
			errs["backorderLimit"] = conflict.Reason
		case err != nil:
			c.fail(w, r, err)
			return
		default:
			c.log.InfoContext(r.Context(), "console changed stock settings", "shop_id", shopOf(r), "sku", sku,
				"variant_key", variantKey, "actor", sessionOf(r).actor())
			http.Redirect(w, r, shopURL(shopOf(r), "/stock/line?"+url.Values{"sku": {sku}, "variant": {variantKey}, "saved": {"1"}}.Encode()), http.StatusSeeOther)
			return
		}
	}
	c.renderLine(w, r, http.StatusUnprocessableEntity, sku, variantKey, &lineData{Form: form, Errors: errs})
}

// fieldErrors indexes a validation error's issues by field.
func fieldErrors(e *checkoutd.ValidationError) map[string]string {
	out := make(map[string]string, len(e.Details))
	for _, d := range e.Details {
		if prev, ok := out[d.Field]; ok {
			out[d.Field] = prev + "; " + d.Issue
			continue
		}
		out[d.Field] = d.Issue
	}
	return out
}

func newIdempotencyKey() string {
	return "console-" + randomHex(12)
}
