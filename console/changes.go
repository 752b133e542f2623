package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

// formRows is how many lines each stock change form takes at once; blank
// rows are skipped.
const formRows = 3

// changeForm is one stock change form as shown: what was typed, what was
// wrong with it, and the idempotency key that makes a resubmission safe.
type changeForm struct {
	Values map[string]string
	Errors map[string]string
	// Problems are errors about the form as a whole.
	Problems []string
	Key      string
}

func newChangeForm() changeForm {
	return changeForm{Values: map[string]string{}, Errors: map[string]string{}, Key: newIdempotencyKey()}
}

type changesData struct {
	Adjust, Receive, Transfer changeForm
	Locations                 []inventory.Location
	Rows                      int
	// Result is what the change just made did, and Kind which form made
	// it.
	Result *inventory.ChangeResult
	Kind   string
}

// changesPage shows the adjustment, receipt and transfer forms.
func (c *Console) changesPage(w http.ResponseWriter, r *http.Request) {
	d := changesData{Adjust: newChangeForm(), Receive: newChangeForm(), Transfer: newChangeForm()}
	c.renderChanges(w, r, http.StatusOK, &d)
}

func (c *Console) renderChanges(w http.ResponseWriter, r *http.Request, status int, d *changesData) {
	locations, err := c.ledger.ListLocations(r.Context(), shopOf(r))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Locations, d.Rows = locations, formRows
	c.render(w, r, status, "changes", "Stock changes", d)
}

// change applies one of the forms through the same ledger call the API
// makes (Adjust, Receive, Transfer): all its lines or none, once per
// idempotency key, recorded as the session's actor.
func (c *Console) change(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r) || !c.checkCSRF(w, r) {
		return
	}
	kind := pathVar(r, "kind")
	form := newChangeForm()
	for k, v := range r.PostForm {
		if k != "csrf" && len(v) > 0 {
			form.Values[k] = strings.TrimSpace(v[0])
		}
	}
	form.Key = form.Values["idempotencyKey"]
	if form.Key == "" {
		form.Key = newIdempotencyKey()
	}
	prefix := "items"
	if kind == "adjust" {
		prefix = "changes"
	}
	rows := form.rows(prefix)
	ctx, shop, actor := r.Context(), shopOf(r), sessionOf(r).actor()
	var res *inventory.ChangeResult
	var err error
	refused := len(form.Errors) > 0 || len(form.Problems) > 0
	if !refused {
		switch kind {
		case "adjust":
			req := inventory.AdjustRequest{Reference: form.Values["reference"], CreatedBy: actor, IdempotencyKey: form.Key}
			for _, row := range rows {
				req.Changes = append(req.Changes, inventory.StockChange{
					SKU: row.sku, VariantKey: row.variantKey, LocationID: row.location, Quantity: row.quantity,
					Op: inventory.Op(row.get("op")), Type: inventory.MovementType(row.get("type")), Notes: row.get("notes"),
				})
			}
			res, err = c.ledger.Adjust(ctx, shop, req)
		case "receive":
			req := inventory.ReceiptRequest{PurchaseOrderID: form.Values["purchaseOrderId"], CreatedBy: actor, IdempotencyKey: form.Key}
			for _, row := range rows {
				req.Items = append(req.Items, inventory.ReceiptItem{SKU: row.sku, VariantKey: row.variantKey, LocationID: row.location, Quantity: row.quantity})
			}
			res, err = c.ledger.Receive(ctx, shop, req)
		default:
			req := inventory.TransferRequest{
				FromLocationID: form.Values["fromLocationId"], ToLocationID: form.Values["toLocationId"],
				Reference: form.Values["reference"], CreatedBy: actor, IdempotencyKey: form.Key,
			}
			for _, row := range rows {
				req.Items = append(req.Items, inventory.Line{SKU: row.sku, VariantKey: row.variantKey, Quantity: row.quantity})
			}
			res, err = c.ledger.Transfer(ctx, shop, req)
		}
	}
	var invalid *checkoutd.ValidationError
	var conflict *inventory.StockConflictError
	switch {
	case refused:
	case errors.As(err, &invalid):
		form.addIssues(invalid, prefix, rows)
	case errors.As(err, &conflict):
		form.Problems = append(form.Problems, fmt.Sprintf("%s %s at %s: %s. Nothing was changed.",
			conflict.SKU, conflict.VariantKey, conflict.LocationID, conflict.Reason))
	case errors.Is(err, inventory.ErrIdempotencyConflict):
		form.Problems = append(form.Problems, "This form was already submitted with other values. Reload the page to make a new change.")
	case err != nil:
		c.fail(w, r, err)
		return
	}
	d := changesData{Adjust: newChangeForm(), Receive: newChangeForm(), Transfer: newChangeForm()}
	if res == nil {
		if len(form.Errors) > 0 {
			form.Problems = append([]string{"fix the fields marked below."}, form.Problems...)
		}
		switch kind {
		case "adjust":
			d.Adjust = form
		case "receive":
			d.Receive = form
		default:
			d.Transfer = form
		}
		c.renderChanges(w, r, http.StatusUnprocessableEntity, &d)
		return
	}
	c.log.InfoContext(ctx, "console changed stock", "shop_id", shop, "kind", kind, "movements", len(res.Movements), "actor", actor)
	d.Result, d.Kind = res, kind
	c.renderChanges(w, r, http.StatusOK, &d)
}

// formRow is one filled-in row of a form.
type formRow struct {
	index      int
	sku        string
	variantKey string
	location   string
	quantity   int64
	values     map[string]string
	prefix     string
}

func (row formRow) get(name string) string {
	return row.values[fmt.Sprintf("%s[%d].%s", row.prefix, row.index, name)]
}

// rows reads the form's filled-in rows, noting quantities that are not
// whole numbers; blank rows (no sku, variant or quantity) are skipped.
func (f *changeForm) rows(prefix string) []formRow {
	var out []formRow
	for i := range formRows {
		row := formRow{index: i, values: f.Values, prefix: prefix}
		row.sku, row.variantKey, row.location = row.get("sku"), row.get("variantKey"), row.get("locationId")
		qty := row.get("quantity")
		if row.sku == "" && row.variantKey == "" && qty == "" {
			continue
		}
		n, err := strconv.ParseInt(qty, 10, 64)
		if err != nil {
			f.Errors[fmt.Sprintf("%s[%d].quantity", prefix, i)] = "must be a whole number"
		}
		row.quantity = n
		out = append(out, row)
	}
	if len(out) == 0 && len(f.Errors) == 0 {
		f.Problems = append(f.Problems, "Fill in at least one line.")
	}
	return out
}

// addIssues shows the ledger's issues next to the fields they name. The
// ledger numbers the lines it was given, so items[1] is the second
// filled-in row, not necessarily the form's second.
func (f *changeForm) addIssues(e *checkoutd.ValidationError, prefix string, rows []formRow) {
	for field, issue := range fieldErrors(e) {
		if rest, ok := strings.CutPrefix(field, prefix+"["); ok {
			if n, tail, ok := strings.Cut(rest, "]"); ok {
				if k, err := strconv.Atoi(n); err == nil && k < len(rows) {
					field = fmt.Sprintf("%s[%d]%s", prefix, rows[k].index, tail)
				}
			}
		}
		if _, known := f.Values[field]; known || strings.HasPrefix(field, prefix+"[") {
			f.Errors[field] = issue
			continue
		}
		f.Problems = append(f.Problems, field+" "+issue)
	}
}
