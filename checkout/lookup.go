package checkout

import (
	"context"
	"fmt"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
)

// SessionMetadata is the metadata checkoutd gives the Stripe session of a
// checkout (and the session's payment intent): the shop, the checkout and
// its mode, and holdID as inventory_reservation_id when the checkout holds
// stock ("" when it does not). The webhooks find the checkout by it, so
// anything that sends events as Stripe would (`checkoutd stripe
// send-event`) builds it here too.
func SessionMetadata(shopID, checkoutID, mode, holdID string) map[string]string {
	m := map[string]string{
		"shop_id":       shopID,
		"checkout_id":   checkoutID,
		"checkout_mode": mode,
	}
	if holdID != "" {
		m["inventory_reservation_id"] = holdID
	}
	return m
}

// SessionCheckout is the checkout a Stripe session was created for.
type SessionCheckout struct {
	ShopID        string
	ID            string
	Mode          string
	InventoryMode checkoutd.InventoryMode
	// HoldID is the checkout's hold, "" if it has none.
	HoldID string
}

// Metadata returns the metadata the checkout's session was created with.
func (c SessionCheckout) Metadata() map[string]string {
	// Only a reserve_ttl checkout's session names its hold; a hold recorded
	// for another mode is the sale made after payment.
	holdID := c.HoldID
	if c.InventoryMode != checkoutd.ModeReserveTTL {
		holdID = ""
	}
	return SessionMetadata(c.ShopID, c.ID, c.Mode, holdID)
}

// maxLookup bounds Lookup's answer: more than one already means the caller
// must name the shop.
const maxLookup = 10

// Lookup returns the checkouts whose Stripe session is sessionID, in shopID
// when it is not "", ordered by shop (at most ten). Session ids are unique
// within a shop only, so a look-up in every shop may find several.
func Lookup(ctx context.Context, conn database.Executor, sessionID, shopID string) ([]SessionCheckout, error) {
	rows, err := db.New().ListCheckoutsBySession(ctx, conn, db.ListCheckoutsBySessionParams{
		StripeSessionID: &sessionID, ShopID: shopID, Max: maxLookup,
	})
	if err != nil {
		return nil, database.WrapError(fmt.Sprintf("look up the checkout of session %s", sessionID), err)
	}
	out := make([]SessionCheckout, len(rows))
	for i, r := range rows {
		out[i] = SessionCheckout{ShopID: r.ShopID, ID: r.ID, Mode: r.Mode, InventoryMode: checkoutd.InventoryMode(r.InventoryMode)}
		if r.HoldID != nil {
			out[i].HoldID = *r.HoldID
		}
	}
	return out, nil
}
