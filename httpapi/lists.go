package httpapi

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
)

// MountAlerts adds GET /api/inventory/shops/{shopId}/alerts to r: the
// shop's low-stock and oversold alerts, read from db, newest first, with
// the state of each delivery. Like the other shop routes it takes the
// service token or the shop's own key.
func (a *API) MountAlerts(r *mux.Router, db database.Executor) {
	a.mountShopList(r, "/api/inventory/shops/{shopId}/alerts", func(ctx context.Context, shopID string, limit int, cursor string) (any, error) {
		return alerts.List(ctx, db, shopID, limit, cursor)
	})
}

// MountOversold adds GET /api/inventory/shops/{shopId}/oversold to r: the
// shop's oversold orders, read from db, newest first. Like the other shop
// routes it takes the service token or the shop's own key.
func (a *API) MountOversold(r *mux.Router, db database.Executor) {
	a.mountShopList(r, "/api/inventory/shops/{shopId}/oversold", func(ctx context.Context, shopID string, limit int, cursor string) (any, error) {
		return checkout.ListOversold(ctx, db, shopID, limit, cursor)
	})
}

// listFunc reads one page of a shop's list, newest first.
type listFunc func(ctx context.Context, shopID string, limit int, cursor string) (any, error)

// mountShopList serves a paged list of the shop named in path: limit and
// cursor come from the query, as on every list of the API.
func (a *API) mountShopList(r *mux.Router, path string, list listFunc) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, issues := intParam(q.Get("limit"), "limit", nil)
		if len(issues) > 0 {
			writeInvalid(w, issues)
			return
		}
		page, err := list(r.Context(), pathVar(r, "shopId"), limit, q.Get("cursor"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	})
	r.Handle(path, a.authenticate(a.limit(a.authorizeShop(h)))).Methods(http.MethodGet)
}
