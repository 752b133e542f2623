package httpapi

import (
	"net/http"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

type createReturnRequest struct {
	Items []inventory.ReturnItem `json:"items"`
	// Restock is a pointer so that leaving it out means true: most units
	// that come back can be sold again.
	Restock        *bool  `json:"restock"`
	Reason         string `json:"reason"`
	IdempotencyKey string `json:"idempotencyKey"`
}

// createReturn records units of a committed hold coming back: 201 for a new
// return, 200 for an idempotent replay, as holds are.
func (a *API) createReturn(w http.ResponseWriter, r *http.Request) {
	holdID, ok := pathID(w, r, "holdId", "hold not found")
	if !ok {
		return
	}
	var req createReturnRequest
	if !decode(w, r, &req) {
		return
	}
	restock := req.Restock == nil || *req.Restock
	ret, created, err := a.ledger.CreateReturn(r.Context(), pathVar(r, "shopId"), holdID, inventory.ReturnRequest{
		Items: req.Items, Restock: restock, Reason: req.Reason, IdempotencyKey: req.IdempotencyKey,
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, ret)
}

func (a *API) listReturns(w http.ResponseWriter, r *http.Request) {
	holdID, ok := pathID(w, r, "holdId", "hold not found")
	if !ok {
		return
	}
	rets, err := a.ledger.ListReturns(r.Context(), pathVar(r, "shopId"), holdID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rets})
}

// rentals lists the shop's committed rentals, newest first, filtered by
// status=out|overdue|returned.
func (a *API) rentals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := inventory.RentalsOptions{Status: inventory.RentalStatus(q.Get("status")), Cursor: q.Get("cursor")}
	var issues []checkoutd.FieldIssue
	opts.Limit, issues = intParam(q.Get("limit"), "limit", issues)
	if len(issues) > 0 {
		writeInvalid(w, issues)
		return
	}
	page, err := a.ledger.ListRentals(r.Context(), pathVar(r, "shopId"), opts)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
