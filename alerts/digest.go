package alerts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/alerts/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/ids"
)

// KindDigest is the alert that carries a shop's held alerts to the channels
// in one message.
const KindDigest = "digest"

// The defaults of Budget.
const (
	// DefaultBudgetPerShop is the default of Budget.PerShop
	// (ALERT_BUDGET_PER_SHOP).
	DefaultBudgetPerShop = 10
	// DefaultBudgetWindow is the default of Budget.Window
	// (ALERT_BUDGET_WINDOW).
	DefaultBudgetWindow = 10 * time.Minute
)

// digestLines is how many held alerts a digest names; the rest it counts.
const digestLines = 20

// Budget caps the low-stock alerts one shop sends over the channels, which
// every shop shares: within a window, the shop's first PerShop alerts go
// out on their own, and the rest are held (recorded and listed, with no
// deliveries of their own) for one digest when the window ends. A window
// opens with the shop's first alert after the previous one ended. The count
// is a row per shop claimed in the transaction that records the alert, so
// it holds across replicas and restarts.
//
// Oversold alerts are not counted: each is a paid order that needs someone
// now, and a shop cannot raise them at will (it takes a customer's payment).
type Budget struct {
	// PerShop is how many alerts of one shop go out on their own per
	// window (default DefaultBudgetPerShop).
	PerShop int
	// Window is the budget's period (default DefaultBudgetWindow; whole
	// seconds).
	Window time.Duration
}

// withDefaults fills what is unset.
func (b Budget) withDefaults() Budget {
	if b.PerShop <= 0 {
		b.PerShop = DefaultBudgetPerShop
	}
	if b.Window < time.Second {
		b.Window = DefaultBudgetWindow
	}
	return b
}

// Digest asks for the digest of a shop's held alerts at At, the end of the
// window that held the first of them; the caller enqueues it, in the same
// transaction, to run then and call RaiseDigest.
type Digest struct {
	ShopID string
	At     time.Time
}

// claimBudget counts n alerts of the shop against its budget, in tx, and
// returns how many of them go out on their own; the rest are held. When
// they are the first held since the shop's last digest, it returns the
// digest to ask for. With no channel on nothing is sent, so nothing is
// counted.
func (a *Alerter) claimBudget(ctx context.Context, tx pgx.Tx, shopID string, n int) (sent int, digest *Digest, err error) {
	if len(a.channels.Names()) == 0 {
		return n, nil, nil
	}
	b, err := a.queries.LockShopAlertBudget(ctx, tx, shopID)
	if err != nil {
		return 0, nil, database.WrapError("lock alert budget", err)
	}
	start, spent, held := b.WindowStartedAt, int(b.Sent), int(b.Held)
	if !b.Now.Before(start.Add(a.budget.Window)) {
		start, spent, held = b.Now, 0, 0
	}
	sent = min(n, max(a.budget.PerShop-spent, 0))
	if n > sent && held == 0 {
		digest = &Digest{ShopID: shopID, At: start.Add(a.budget.Window)}
	}
	err = a.queries.SetAlertBudget(ctx, tx, db.SetAlertBudgetParams{
		ShopID: shopID, WindowStartedAt: start, Sent: int32(spent + sent), Held: int32(held + n - sent),
	})
	if err != nil {
		return 0, nil, database.WrapError("claim alert budget", err)
	}
	return sent, digest, nil
}

// RaiseDigest records, in tx, one alert carrying every held alert of the
// shop that no digest has carried yet, with its deliveries, and marks them
// carried. With none waiting (another digest took them) it returns nil and
// no deliveries, so a digest asked for twice is sent once.
func (a *Alerter) RaiseDigest(ctx context.Context, tx pgx.Tx, shopID string) (*Raised, error) {
	// The budget row first: a claim holding an alert for this digest
	// commits before the read below, and one after asks for a new digest.
	_, err := a.queries.LockAlertBudget(ctx, tx, shopID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, database.WrapError("lock alert budget", err)
	}
	waiting, err := a.queries.AlertsAwaitingDigest(ctx, tx, shopID)
	if err != nil {
		return nil, database.WrapError("read held alerts", err)
	}
	if len(waiting) == 0 {
		return nil, nil
	}
	id := ids.New("alr_")
	heldIDs := make([]string, len(waiting))
	lines := make([]string, 0, min(len(waiting), digestLines))
	for i, w := range waiting {
		heldIDs[i] = w.ID
		if i < digestLines && w.Sku != nil && w.VariantKey != nil {
			lines = append(lines, lineName(*w.Sku, *w.VariantKey))
		}
	}
	_, err = a.queries.InsertAlert(ctx, tx, db.InsertAlertParams{
		ShopID: shopID, ID: id, Kind: KindDigest, Message: a.digestMessage(shopID, len(waiting), lines),
	})
	if err != nil {
		return nil, database.WrapError("record alert digest", err)
	}
	if err := a.queries.SetAlertsDigest(ctx, tx, db.SetAlertsDigestParams{ShopID: shopID, DigestID: &id, Ids: heldIDs}); err != nil {
		return nil, database.WrapError("mark held alerts digested", err)
	}
	ds, err := a.addDeliveries(ctx, tx, shopID, id)
	if err != nil {
		return nil, err
	}
	return &Raised{AlertID: id, Deliveries: ds, Carries: len(waiting)}, nil
}

// digestMessage names up to digestLines of the n held alerts' lines and
// counts the rest.
func (a *Alerter) digestMessage(shopID string, n int, lines []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Shop %s raised %d more low-stock %s than its budget of %d per %s sends on their own: %s",
		shopID, n, plural(n, "alert", "alerts"), a.budget.PerShop, durationWords(a.budget.Window), strings.Join(lines, ", "))
	if rest := n - len(lines); rest > 0 {
		fmt.Fprintf(&b, " and %d more", rest)
	}
	fmt.Fprintf(&b, " (see GET /api/inventory/shops/%s/alerts).", shopID)
	return b.String()
}

// durationWords says d in the largest whole unit: "10 minutes", "1 hour".
func durationWords(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		n := int(d / time.Hour)
		return strconv.Itoa(n) + " " + plural(n, "hour", "hours")
	case d >= time.Minute && d%time.Minute == 0:
		n := int(d / time.Minute)
		return strconv.Itoa(n) + " " + plural(n, "minute", "minutes")
	}
	n := int(d / time.Second)
	return strconv.Itoa(n) + " " + plural(n, "second", "seconds")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
