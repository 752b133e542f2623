package httpapi

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
)

// MountCheckout adds POST /api/checkout/sessions, served by svc, to r.
func (a *API) MountCheckout(r *mux.Router, svc *checkout.Service) {
	r.Handle("/api/checkout/sessions", a.authenticate(a.limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.createCheckoutSession(w, r, svc)
	})))).Methods(http.MethodPost)
}

// createCheckoutSession creates a Stripe Checkout Session: 201 for a new
// one, 200 for an idempotent replay.
func (a *API) createCheckoutSession(w http.ResponseWriter, r *http.Request, svc *checkout.Service) {
	var req checkout.Request
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
	sess, created, err := svc.Create(r.Context(), req)
	switch {
	case errors.Is(err, checkout.ErrPaymentProvider):
		writeError(w, http.StatusBadGateway, "payment_provider_error", "the payment provider failed; any stock held for the checkout was released", nil)
		return
	case errors.Is(err, checkout.ErrInProgress):
		writeError(w, http.StatusConflict, "conflict", "a request with this idempotencyKey is still in progress", nil)
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, sess)
}
