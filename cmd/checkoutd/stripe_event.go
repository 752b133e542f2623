package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/config"
	"github.com/checkoutd/checkoutd/internal/stripeevent"
)

// defaultWebhookURL is where checkoutd serves Stripe webhooks in local
// development.
const defaultWebhookURL = "http://127.0.0.1:8080/webhooks/stripe"

// sendEventTimeout bounds the whole delivery of one event.
const sendEventTimeout = 30 * time.Second

// paymentStatuses are the values of a session's payment_status.
var paymentStatuses = []string{"paid", "unpaid", "no_payment_required"}

// runStripe dispatches the stripe subcommands.
func runStripe(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("stripe", "send-event --type <event type> --session <cs_id> [flags]",
		"Stripe tooling for development.\n\n"+
			"commands:\n"+
			"  send-event   sign a checkout.session event as Stripe would and POST it\n"+
			"               to a checkoutd webhook endpoint")
	return a.dispatch(ctx, fs, args, subcommand{"send-event", runStripeSendEvent})
}

// sendEventOptions are send-event's checked flags.
type sendEventOptions struct {
	eventType     stripe.EventType
	sessionID     string
	paymentStatus string
	target        *url.URL
	shopID        string
}

// runStripeSendEvent builds, signs and delivers one checkout.session event.
func runStripeSendEvent(ctx context.Context, a *app, args []string) error {
	types := make([]string, 0, len(stripeevent.CheckoutSessionEvents))
	for t := range stripeevent.CheckoutSessionEvents {
		types = append(types, string(t))
	}
	slices.Sort(types)
	fs := a.newFlagSet("stripe send-event",
		"--type <event type> --session <cs_id> [--payment-status paid|unpaid] [--url url] [--shop id] [--allow-remote]",
		"Build a Stripe event for a Checkout Session, sign it with the first secret\n"+
			"of STRIPE_WEBHOOK_SECRET and POST it with a Stripe-Signature header, as\n"+
			"Stripe would; print the answer's status and body. Exits 1 unless the\n"+
			"answer is 2xx, or when checkoutd answers that it ignored the event\n"+
			"(\"outcome\": \"ignored\"), printing its reason.\n\n"+
			"The session's metadata is what checkoutd gave it: the checkout is looked\n"+
			"up by session id in DATABASE_URL (--shop narrows the search). A session\n"+
			"not found there gets only what the flags say (shop_id from --shop), with\n"+
			"a warning.\n\n"+
			"Event types: "+strings.Join(types, ", ")+".")
	eventType := fs.String("type", "", "the event `type`, e.g. checkout.session.completed")
	session := fs.String("session", "", "the Checkout Session `id` (cs_...)")
	paymentStatus := fs.String("payment-status", "", "the session's payment_status: paid, unpaid or no_payment_required\n(default paid for completed and async_payment_succeeded, else unpaid)")
	target := fs.String("url", defaultWebhookURL, "the webhook endpoint's `url`")
	shop := fs.String("shop", "", "the shop `id` the session belongs to")
	allowRemote := fs.Bool("allow-remote", false, "allow a --url that is not on this machine (loopback)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}

	opts := sendEventOptions{eventType: stripe.EventType(*eventType), sessionID: *session, shopID: *shop}
	defaults, ok := stripeevent.CheckoutSessionEvents[opts.eventType]
	switch {
	case *eventType == "":
		return usageFail(fs, "missing --type")
	case !ok:
		return usageFail(fs, "--type %q is not one of %s", *eventType, strings.Join(types, ", "))
	case *session == "":
		return usageFail(fs, "missing --session")
	case !strings.HasPrefix(*session, "cs_") || strings.ContainsAny(*session, " \t\r\n"):
		return usageFail(fs, "--session %q is not a Checkout Session id (cs_...)", *session)
	case *shop != "" && !checkoutd.ValidShopID(*shop):
		return usageFail(fs, "--shop must be a shop id")
	}
	opts.paymentStatus = defaults.PaymentStatus
	if *paymentStatus != "" {
		if !slices.Contains(paymentStatuses, *paymentStatus) {
			return usageFail(fs, "--payment-status must be one of %s", strings.Join(paymentStatuses, ", "))
		}
		opts.paymentStatus = *paymentStatus
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return usageFail(fs, "--url %q is not an http(s) URL", *target)
	}
	if !*allowRemote && !isLoopbackHost(u.Hostname()) {
		return usageFail(fs, "--url %s is not on this machine; pass --allow-remote to send it there anyway", u.Redacted())
	}
	opts.target = u
	secret, _, _ := strings.Cut(a.cfg.StripeWebhookSecret, ",")
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return &config.Error{Name: "STRIPE_WEBHOOK_SECRET", Problem: "is not set",
			Allowed: "set it to the signing secret (whsec_...) of the endpoint the event goes to"}
	}

	metadata, err := a.sessionMetadata(ctx, fs, opts)
	if err != nil {
		return err
	}
	payload, eventID, err := stripeevent.Build(stripeevent.CheckoutSession{
		Type: opts.eventType, SessionID: opts.sessionID, Metadata: metadata,
		State: stripeevent.SessionState{Status: defaults.Status, PaymentStatus: opts.paymentStatus},
	}, time.Now())
	if err != nil {
		return err
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret})

	ctx, cancel := context.WithTimeout(ctx, sendEventTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(signed.Payload))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", signed.Header)
	client := &http.Client{
		// Stripe does not follow redirects, and following one could leave
		// this machine.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	fmt.Fprintf(a.stderr, "sending %s %s for %s (payment_status %s) to %s\n",
		eventID, opts.eventType, opts.sessionID, opts.paymentStatus, u.Redacted())
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("send event %s: %w", eventID, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read the answer to event %s: %w", eventID, err)
	}
	fmt.Fprintf(a.stdout, "%s %s\n", resp.Proto, resp.Status)
	if len(body) > 0 {
		_, _ = a.stdout.Write(body)
		if body[len(body)-1] != '\n' {
			fmt.Fprintln(a.stdout)
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(a.stderr, "event %s was refused: %s\n", eventID, resp.Status)
		return errReported
	}
	if ignored, reason := ignoredEvent(body); ignored {
		fmt.Fprintf(a.stderr, "event %s was ignored: %s\n", eventID, reason)
		return errReported
	}
	return nil
}

// ignoredEvent reads a webhook's 200 body: checkoutd answers
// {"received": true, "outcome": "ignored", "reason": "..."} for an event it
// acknowledged but did not act on (a mistyped session id, a session of
// another shop). Stripe must get 200 for it, but whoever sent it by hand
// wants to know.
func ignoredEvent(body []byte) (bool, string) {
	var answer struct {
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Outcome != string(checkout.Ignored) {
		return false, ""
	}
	if answer.Reason == "" {
		answer.Reason = "the endpoint did not say why"
	}
	return true, answer.Reason
}

// sessionMetadata returns the metadata checkoutd put on the session, read
// from the checkout recorded for it: shop_id, checkout_id, checkout_mode and,
// for a reserve_ttl checkout with a hold, inventory_reservation_id. A session
// with no checkout (or no database to look in) gets shop_id from --shop
// only, with a warning. Several shops with the session is a usage error:
// --shop must say which.
func (a *app) sessionMetadata(ctx context.Context, fs *flag.FlagSet, opts sendEventOptions) (map[string]string, error) {
	fallback := map[string]string{}
	if opts.shopID != "" {
		fallback["shop_id"] = opts.shopID
	}
	if a.cfg.DatabaseURL == "" {
		fmt.Fprintf(a.stderr, "warning: DATABASE_URL is not set, so checkout %s cannot be looked up; the event carries only the metadata the flags give: %s\n",
			opts.sessionID, formatMetadata(fallback))
		return fallback, nil
	}
	pool, err := a.openPool(ctx, "stripe", 1)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	found, err := checkout.Lookup(ctx, pool, opts.sessionID, opts.shopID)
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		where := "any shop"
		if opts.shopID != "" {
			where = "shop " + opts.shopID
		}
		fmt.Fprintf(a.stderr, "warning: no checkout of %s has session %s; the event carries only the metadata the flags give: %s\n",
			where, opts.sessionID, formatMetadata(fallback))
		return fallback, nil
	case 1:
		return found[0].Metadata(), nil
	default:
		shops := make([]string, len(found))
		for i, c := range found {
			shops[i] = c.ShopID
		}
		return nil, usageFail(fs, "checkouts of several shops (%s) have session %s: pass --shop", strings.Join(shops, ", "), opts.sessionID)
	}
}

// formatMetadata prints metadata as k=v pairs in key order, or "none".
func formatMetadata(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, " ")
}

// isLoopbackHost reports whether host (a URL's hostname) names this
// machine: localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
