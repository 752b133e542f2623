package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/alerts/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
)

// ErrNoDelivery is returned by Deliver for a delivery the database does not
// have; trying again cannot help.
var ErrNoDelivery = errors.New("alerts: no such delivery")

// Payload is the JSON body the webhook channel receives. Fields that do not
// apply to the alert's kind are null. AlertID identifies the alert across
// retries: a receiver may see one delivery more than once and should
// deduplicate on it.
type Payload struct {
	// Type is the alert's kind: low_stock or oversold.
	Type       string    `json:"type"`
	ShopID     string    `json:"shopId"`
	AlertID    string    `json:"alertId"`
	SKU        *string   `json:"sku"`
	VariantKey *string   `json:"variantKey"`
	Available  *int64    `json:"available"`
	Threshold  *int64    `json:"threshold"`
	OversoldID *string   `json:"oversoldId"`
	Message    string    `json:"message"`
	CreatedAt  time.Time `json:"createdAt"`
}

// SlackPayload is the body the Slack channel receives: what Slack's
// incoming webhooks take.
type SlackPayload struct {
	Text string `json:"text"`
}

// recordTimeout bounds recording an attempt's outcome, which happens even
// when the job's context has ended: a delivery made but not recorded would
// be made again.
const recordTimeout = 10 * time.Second

// Deliver sends one delivery of an alert and records the outcome in db. A
// delivery already made is not made again, so a job may run it any number
// of times. A 2xx answer marks it delivered; anything else records the
// error's class and returns a *DeliveryError, leaving the delivery pending
// for the job's next attempt, or failed when lastAttempt says there is none.
// The error's detail is logged, never stored: the shop reads what is
// stored. A channel that is no longer configured fails the delivery
// without an error: retrying cannot help. A delivery db does not have is
// ErrNoDelivery.
func (a *Alerter) Deliver(ctx context.Context, conn database.Executor, d Delivery, lastAttempt bool) error {
	log := a.log.With("shop_id", d.ShopID, "alert_id", d.AlertID, "channel", d.Channel)
	key := db.GetAlertDeliveryParams{ShopID: d.ShopID, AlertID: d.AlertID, Channel: d.Channel}
	state, err := a.queries.GetAlertDelivery(ctx, conn, key)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("deliver alert %s to %s: %w", d.AlertID, d.Channel, ErrNoDelivery)
	}
	if err != nil {
		return database.WrapError("read alert delivery", err)
	}
	if state.Status == StatusDelivered {
		log.InfoContext(ctx, "alert already delivered")
		return nil
	}
	alert, err := a.queries.GetAlert(ctx, conn, db.GetAlertParams{ShopID: d.ShopID, ID: d.AlertID})
	if err != nil {
		return database.WrapError("read alert", err)
	}

	req, err := a.request(ctx, d, alert)
	if errors.Is(err, errChannelOff) {
		log.ErrorContext(ctx, "alert not delivered: its channel is no longer configured", "error_class", ErrorNotConfigured)
		return a.record(ctx, conn, d, StatusFailed, ErrorNotConfigured)
	}
	if err != nil {
		return err
	}
	sendErr := a.send(req, d.Channel)
	if sendErr == nil {
		if err := a.record(ctx, conn, d, StatusDelivered, ""); err != nil {
			return err
		}
		log.InfoContext(ctx, "alert delivered", "attempts", state.Attempts+1)
		return nil
	}
	status := StatusPending
	if lastAttempt {
		status = StatusFailed
	}
	// The detail (the receiver's address, its resolver, its answer) is for
	// ops: logged here, and nowhere a shop or the job's record can read it.
	attrs := []any{"attempts", state.Attempts + 1, "error_class", sendErr.Class, "error", sendErr.Err.Error()}
	if lastAttempt {
		log.ErrorContext(ctx, "alert delivery failed; giving up", attrs...)
	} else {
		log.WarnContext(ctx, "alert delivery failed; will retry", attrs...)
	}
	if err := a.record(ctx, conn, d, status, sendErr.Class); err != nil {
		return fmt.Errorf("deliver alert %s to %s: %w (and recording it: %w)", d.AlertID, d.Channel, sendErr, err)
	}
	return fmt.Errorf("deliver alert %s to %s: %w", d.AlertID, d.Channel, sendErr)
}

// record stores an attempt's outcome: its status and, for a failed
// attempt, the class of its error.
func (a *Alerter) record(ctx context.Context, conn database.Executor, d Delivery, status, errorClass string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var class *string
	if errorClass != "" {
		class = &errorClass
	}
	err := a.queries.RecordAlertDelivery(ctx, conn, db.RecordAlertDeliveryParams{
		Status: status, LastErrorClass: class, ShopID: d.ShopID, AlertID: d.AlertID, Channel: d.Channel,
	})
	if err != nil {
		return database.WrapError("record alert delivery", err)
	}
	return nil
}

var errChannelOff = errors.New("channel is not configured")

// request builds the channel's request for the alert.
func (a *Alerter) request(ctx context.Context, d Delivery, alert db.GetAlertRow) (*http.Request, error) {
	var (
		target string
		body   []byte
		err    error
	)
	switch d.Channel {
	case ChannelSlack:
		target = a.channels.SlackWebhookURL
		body, err = json.Marshal(SlackPayload{Text: slackText(alert)})
	case ChannelWebhook:
		target = a.channels.WebhookURL
		body, err = json.Marshal(Payload{
			Type: alert.Kind, ShopID: d.ShopID, AlertID: alert.ID,
			SKU: alert.Sku, VariantKey: alert.VariantKey, Available: alert.Available, Threshold: alert.Threshold,
			OversoldID: alert.OversoldID, Message: alert.Message, CreatedAt: alert.CreatedAt.UTC(),
		})
	default:
		return nil, fmt.Errorf("%w: %q", errChannelOff, d.Channel)
	}
	if err != nil {
		return nil, fmt.Errorf("encode alert %s: %w", d.AlertID, err)
	}
	if target == "" {
		return nil, fmt.Errorf("%w: %s", errChannelOff, d.Channel)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		// The URL is the channel's secret (Slack's is): never repeat it.
		return nil, fmt.Errorf("%w: %s has an unusable URL", errChannelOff, d.Channel)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "checkoutd-alerts")
	if d.Channel == ChannelWebhook && a.channels.WebhookSecret != "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, Sign(a.channels.WebhookSecret, ts, body))
	}
	return req, nil
}

// send posts req and turns anything but a 2xx answer into a
// *DeliveryError. Its detail never repeats the URL, the channel's secret
// (Slack's is), but may name the receiver's host and quote its answer.
func (a *Alerter) send(req *http.Request, channel string) *DeliveryError {
	resp, err := a.client.Do(req)
	if err != nil {
		class := classify(err)
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return &DeliveryError{Class: class, Err: fmt.Errorf("POST to %s channel: %w", channel, err)}
	}
	defer resp.Body.Close()
	// Reading a little of the answer says why; reading the rest lets the
	// connection be reused.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg := fmt.Sprintf("%s channel answered HTTP %d", channel, resp.StatusCode)
	if s := strings.TrimSpace(string(snippet)); s != "" {
		msg += ": " + s
	}
	return &DeliveryError{Class: httpStatusClass(resp.StatusCode), Err: errors.New(msg)}
}

// slackText is the Slack message of an alert: its message, marked by kind,
// with the characters Slack's formatting reserves escaped.
func slackText(alert db.GetAlertRow) string {
	mark := ":warning:"
	if alert.Kind == KindOversold {
		mark = ":rotating_light:"
	}
	return mark + " " + slackEscape(alert.Message) + " (alert " + alert.ID + ")"
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackEscape(s string) string { return slackEscaper.Replace(s) }
