package httpapi

import (
	"net/http"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/inventory"
)

type validateRequest struct {
	ShopID string           `json:"shopId"`
	Items  []inventory.Line `json:"items"`
}

// validate answers whether items could be held now, holding nothing.
func (a *API) validate(w http.ResponseWriter, r *http.Request) {
	httpserver.MarkRead(r.Context())
	var req validateRequest
	if !decode(w, r, &req) {
		return
	}
	if checkoutd.ValidShopID(req.ShopID) && !mayActOn(r.Context(), req.ShopID) {
		writeNotFound(w, "shop not found")
		return
	}
	if !a.limitBody(w, r, req.ShopID) {
		return
	}
	res, err := a.ledger.Validate(r.Context(), req.ShopID, req.Items)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res.OK {
		writeRaw(w, http.StatusOK, validBody)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// validBody is writeJSON's body for a validation that found every item: the
// answer to most carts, written without encoding it each time.
var validBody = []byte(`{"ok":true}` + "\n")
