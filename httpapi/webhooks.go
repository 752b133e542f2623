package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/webhooks"
)

// MountWebhooks adds POST /webhooks/stripe to r. It takes no bearer token:
// the Stripe-Signature header is the authentication.
func (a *API) MountWebhooks(r *mux.Router, verifier *webhooks.Verifier, processor *webhooks.Processor) {
	r.HandleFunc("/webhooks/stripe", func(w http.ResponseWriter, r *http.Request) {
		a.stripeWebhook(w, r, verifier, processor)
	}).Methods(http.MethodPost)
}

// stripeWebhook answers 200 for an event processed, a duplicate or one
// deliberately ignored; 400 for a bad signature or a body that is not an
// event; 5xx only for failures Stripe should retry.
func (a *API) stripeWebhook(w http.ResponseWriter, r *http.Request, verifier *webhooks.Verifier, processor *webhooks.Processor) {
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes), nil)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid_request", "the body could not be read", nil)
		return
	}
	ev, err := verifier.Verify(payload, r.Header.Get("Stripe-Signature"))
	if err != nil {
		a.log.WarnContext(r.Context(), "stripe webhook refused", "request_id", httpserver.RequestID(r.Context()), "error", err.Error())
		writeError(w, http.StatusBadRequest, "invalid_signature", "the Stripe-Signature header does not verify this body", nil)
		return
	}
	res, err := processor.ProcessEvent(r.Context(), ev)
	if err != nil {
		a.webhookFailed(w, r, ev.ID, err)
		return
	}
	body := map[string]any{"received": true, "outcome": res.Outcome}
	if res.Reason != "" {
		// Stripe shows the body in its dashboard; checkoutd stripe
		// send-event prints it and fails.
		body["reason"] = res.Reason
	}
	writeJSON(w, http.StatusOK, body)
}

// webhookFailed answers an event that could not be applied. Stripe knows
// only "done" (2xx), "refused" (4xx) and "retry" (5xx), so both transient
// database failures that API routes tell apart (503 when the database does
// not answer, 429 when it is contended) are 503 here: the event is retried.
// A string the database cannot store will not improve with retries: 400.
func (a *API) webhookFailed(w http.ResponseWriter, r *http.Request, eventID string, err error) {
	log := a.log.With("request_id", httpserver.RequestID(r.Context()), "event_id", eventID, "error", err.Error())
	var busy *inventory.BusyError
	switch {
	case database.IsUnavailable(err), database.IsContended(err), errors.As(err, &busy):
		log.WarnContext(r.Context(), "stripe webhook failed transiently; Stripe will retry")
		w.Header().Set("Retry-After", strconv.Itoa(int(busyRetryAfter.Seconds())))
		writeError(w, http.StatusServiceUnavailable, "inventory_unavailable", "the event could not be applied; it will be retried", nil)
	case database.IsBadText(err):
		log.WarnContext(r.Context(), "stripe webhook refused: a string the database cannot store")
		writeError(w, http.StatusBadRequest, "invalid_signature", "the body is not an event this endpoint can store", nil)
	default:
		log.ErrorContext(r.Context(), "stripe webhook failed; Stripe will retry")
		writeError(w, http.StatusInternalServerError, "internal_error", "the event could not be applied; it will be retried", nil)
	}
}
