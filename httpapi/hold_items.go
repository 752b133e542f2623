package httpapi

import (
	"net/http"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

type setHoldItemsRequest struct {
	Items      []inventory.Line `json:"items"`
	TTLSeconds *int64           `json:"ttlSeconds"`
	// CustomerKey names the buyer for the lines' per-customer limits, as
	// when the hold was placed.
	CustomerKey string `json:"customerKey"`
}

// setHoldItems makes an active hold's lines exactly the request's.
func (a *API) setHoldItems(w http.ResponseWriter, r *http.Request) {
	holdID, ok := pathID(w, r, "holdId", "hold not found")
	if !ok {
		return
	}
	var req setHoldItemsRequest
	if !decode(w, r, &req) {
		return
	}
	var ttl time.Duration
	if req.TTLSeconds != nil {
		if *req.TTLSeconds < 1 || *req.TTLSeconds > inventory.MaxTTLSeconds {
			writeInvalid(w, []checkoutd.FieldIssue{{Field: "ttlSeconds", Issue: "must be an integer from 1 to 86400"}})
			return
		}
		ttl = time.Duration(*req.TTLSeconds) * time.Second
	}
	hold, err := a.ledger.SetHoldItems(r.Context(), pathVar(r, "shopId"), holdID, inventory.SetHoldItemsRequest{Items: req.Items, TTL: ttl, CustomerKey: req.CustomerKey})
	a.holdResult(w, r, hold, err)
}
