package httpapi

import (
	"net/http"

	"github.com/checkoutd/checkoutd/inventory"
)

// adjust applies a batch of stock changes.
func (a *API) adjust(w http.ResponseWriter, r *http.Request) {
	var req inventory.AdjustRequest
	if !decode(w, r, &req) {
		return
	}
	res, err := a.ledger.Adjust(r.Context(), pathVar(r, "shopId"), req)
	a.changed(w, r, res, err)
}

// receive books a purchase order's arrival.
func (a *API) receive(w http.ResponseWriter, r *http.Request) {
	var req inventory.ReceiptRequest
	if !decode(w, r, &req) {
		return
	}
	res, err := a.ledger.Receive(r.Context(), pathVar(r, "shopId"), req)
	a.changed(w, r, res, err)
}

// transfer moves stock between locations.
func (a *API) transfer(w http.ResponseWriter, r *http.Request) {
	var req inventory.TransferRequest
	if !decode(w, r, &req) {
		return
	}
	res, err := a.ledger.Transfer(r.Context(), pathVar(r, "shopId"), req)
	a.changed(w, r, res, err)
}

func (a *API) changed(w http.ResponseWriter, r *http.Request, res *inventory.ChangeResult, err error) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
