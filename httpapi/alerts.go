package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/internal/database"
)

// MountAlerts adds GET /api/inventory/shops/{shopId}/alerts to r: the
// shop's low-stock and oversold alerts, read from db, newest first, with
// the state of each delivery. Like the other shop routes it takes the
// service token or the shop's own key.
func (a *API) MountAlerts(r *mux.Router, db database.Executor) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.listAlerts(w, r, db) })
	r.Handle("/api/inventory/shops/{shopId}/alerts", a.authenticate(a.limit(a.authorizeShop(h)))).Methods(http.MethodGet)
}

// listAlerts serves a page of alerts.
func (a *API) listAlerts(w http.ResponseWriter, r *http.Request, db database.Executor) {
	q := r.URL.Query()
	limit, issues := intParam(q.Get("limit"), "limit", nil)
	if len(issues) > 0 {
		writeInvalid(w, issues)
		return
	}
	page, err := alerts.List(r.Context(), db, pathVar(r, "shopId"), limit, q.Get("cursor"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
