package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
)

// MountOversold adds GET /api/inventory/shops/{shopId}/oversold to r: the
// shop's oversold orders, read from db, newest first. Like the other shop
// routes it takes the service token or the shop's own key.
func (a *API) MountOversold(r *mux.Router, db database.Executor) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.listOversold(w, r, db) })
	r.Handle("/api/inventory/shops/{shopId}/oversold", a.authenticate(a.limit(a.authorizeShop(h)))).Methods(http.MethodGet)
}

// listOversold serves a page of oversold orders.
func (a *API) listOversold(w http.ResponseWriter, r *http.Request, db database.Executor) {
	q := r.URL.Query()
	limit, issues := intParam(q.Get("limit"), "limit", nil)
	if len(issues) > 0 {
		writeInvalid(w, issues)
		return
	}
	page, err := checkout.ListOversold(r.Context(), db, pathVar(r, "shopId"), limit, q.Get("cursor"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
