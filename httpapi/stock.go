package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

// stockInfo serves one stock line.
func (a *API) stockInfo(w http.ResponseWriter, r *http.Request) {
	info, err := a.ledger.StockInfo(r.Context(), pathVar(r, "shopId"), pathVar(r, "sku"), r.URL.Query().Get("variantKey"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeRaw(w, http.StatusOK, appendStockInfo(make([]byte, 0, 512), info))
}

// stockLineNotFoundMessage is the 404 message for a stock line err says is
// missing. When the sku is stocked under other variant keys it names them,
// since a forgotten or misspelt variantKey is the usual cause.
func stockLineNotFoundMessage(err error) string {
	var missing *inventory.StockLineNotFoundError
	if !errors.As(err, &missing) || len(missing.OtherVariantKeys) == 0 {
		return "stock line not found"
	}
	keys := make([]string, len(missing.OtherVariantKeys))
	for i, k := range missing.OtherVariantKeys {
		keys[i] = strconv.Quote(k)
	}
	list := strings.Join(keys, ", ")
	if missing.More {
		list += " and more"
	}
	return fmt.Sprintf("no stock line for sku %q with variantKey %q — this sku has variantKey %s; pass one as ?variantKey=",
		missing.SKU, missing.VariantKey, list)
}

// listStock serves a page of stock lines.
func (a *API) listStock(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var issues []checkoutd.FieldIssue
	opts := inventory.ListStockOptions{Cursor: q.Get("cursor")}
	switch q.Get("lowStock") {
	case "", "false":
	case "true":
		opts.LowStockOnly = true
	default:
		issues = append(issues, checkoutd.FieldIssue{Field: "lowStock", Issue: "must be true or false"})
	}
	opts.Limit, issues = intParam(q.Get("limit"), "limit", issues)
	if len(issues) > 0 {
		writeInvalid(w, issues)
		return
	}
	page, err := a.ledger.ListStock(r.Context(), pathVar(r, "shopId"), opts)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// updateSettings changes a stock line's settings.
func (a *API) updateSettings(w http.ResponseWriter, r *http.Request) {
	var s inventory.StockSettings
	if !decode(w, r, &s) {
		return
	}
	info, err := a.ledger.UpdateSettings(r.Context(), pathVar(r, "shopId"), pathVar(r, "sku"), r.URL.Query().Get("variantKey"), s)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// movements serves a page of the ledger.
func (a *API) movements(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var issues []checkoutd.FieldIssue
	opts := inventory.MovementsOptions{SKU: q.Get("sku"), Cursor: q.Get("cursor")}
	if vk, ok := q["variantKey"]; ok {
		opts.VariantKey = &vk[0]
	}
	opts.Limit, issues = intParam(q.Get("limit"), "limit", issues)
	if len(issues) > 0 {
		writeInvalid(w, issues)
		return
	}
	page, err := a.ledger.Movements(r.Context(), pathVar(r, "shopId"), opts)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// intParam parses an optional integer query parameter; "" is 0.
func intParam(v, name string, issues []checkoutd.FieldIssue) (int, []checkoutd.FieldIssue) {
	if v == "" {
		return 0, issues
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, append(issues, checkoutd.FieldIssue{Field: name, Issue: "must be a positive integer"})
	}
	return n, issues
}
