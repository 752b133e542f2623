package httpapi

import (
	"net/http"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

type createHoldRequest struct {
	Items          []inventory.Line `json:"items"`
	TTLSeconds     *int64           `json:"ttlSeconds"`
	IdempotencyKey string           `json:"idempotencyKey"`
	Reference      string           `json:"reference"`
	CustomerKey    string           `json:"customerKey"`
}

// createHold places a hold: 201 for a new one, 200 for an idempotent replay.
func (a *API) createHold(w http.ResponseWriter, r *http.Request) {
	var req createHoldRequest
	if !decode(w, r, &req) {
		return
	}
	ttl := a.cfg.DefaultHoldTTL
	if req.TTLSeconds != nil {
		if *req.TTLSeconds < 1 || *req.TTLSeconds > inventory.MaxTTLSeconds {
			writeInvalid(w, []checkoutd.FieldIssue{{Field: "ttlSeconds", Issue: "must be an integer from 1 to 86400"}})
			return
		}
		ttl = time.Duration(*req.TTLSeconds) * time.Second
	}
	hold, created, err := a.ledger.Reserve(r.Context(), pathVar(r, "shopId"), inventory.ReserveRequest{
		Items: req.Items, TTL: ttl, IdempotencyKey: req.IdempotencyKey, Reference: req.Reference,
		CustomerKey: req.CustomerKey,
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, hold)
}

func (a *API) getHold(w http.ResponseWriter, r *http.Request) {
	holdID, ok := pathID(w, r, "holdId", "hold not found")
	if !ok {
		return
	}
	hold, err := a.ledger.GetHold(r.Context(), pathVar(r, "shopId"), holdID)
	a.holdResult(w, r, hold, err)
}

func (a *API) commitHold(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reference string `json:"reference"`
	}
	holdID, ok := pathID(w, r, "holdId", "hold not found")
	if !ok {
		return
	}
	if !decode(w, r, &req) {
		return
	}
	hold, err := a.ledger.Commit(r.Context(), pathVar(r, "shopId"), holdID, req.Reference)
	a.holdResult(w, r, hold, err)
}

func (a *API) releaseHold(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	holdID, ok := pathID(w, r, "holdId", "hold not found")
	if !ok {
		return
	}
	if !decode(w, r, &req) {
		return
	}
	hold, err := a.ledger.Release(r.Context(), pathVar(r, "shopId"), holdID, req.Reason)
	a.holdResult(w, r, hold, err)
}

func (a *API) extendHold(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TTLSeconds int64 `json:"ttlSeconds"`
	}
	holdID, ok := pathID(w, r, "holdId", "hold not found")
	if !ok {
		return
	}
	if !decode(w, r, &req) {
		return
	}
	if req.TTLSeconds < 1 || req.TTLSeconds > inventory.MaxTTLSeconds {
		writeInvalid(w, []checkoutd.FieldIssue{{Field: "ttlSeconds", Issue: "must be an integer from 1 to 86400"}})
		return
	}
	hold, err := a.ledger.Extend(r.Context(), pathVar(r, "shopId"), holdID, time.Duration(req.TTLSeconds)*time.Second)
	a.holdResult(w, r, hold, err)
}

func (a *API) holdResult(w http.ResponseWriter, r *http.Request, hold *inventory.Hold, err error) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, hold)
}
