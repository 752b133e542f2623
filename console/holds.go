package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/webhooks"
)

type holdSearchData struct {
	Query     string
	Holds     []inventory.HoldSummary
	Checkouts []checkout.Record
	Searched  bool
}

// holdSearch finds holds and checkouts by hold id, reference, Stripe
// Checkout Session id or PaymentIntent id.
func (c *Console) holdSearch(w http.ResponseWriter, r *http.Request) {
	ctx, shop := r.Context(), shopOf(r)
	d := holdSearchData{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if d.Query != "" {
		d.Searched = true
		var err error
		if d.Holds, err = c.ledger.FindHolds(ctx, shop, d.Query); err != nil {
			c.fail(w, r, err)
			return
		}
		if d.Checkouts, err = checkout.Find(ctx, c.pool, shop, d.Query); err != nil {
			c.fail(w, r, err)
			return
		}
		// A single hold found by its own id: go straight to its story.
		if len(d.Holds) == 1 && d.Holds[0].ID == d.Query && len(d.Checkouts) <= 1 {
			http.Redirect(w, r, holdURL(shop, d.Query), http.StatusSeeOther)
			return
		}
	}
	c.render(w, r, http.StatusOK, "holds", "Holds and checkouts", d)
}

type holdStoryData struct {
	Story     *inventory.HoldStory
	Checkouts []checkout.Record
	Events    []webhooks.RecordedEvent
	// ChangedOpen says the hold was changed while open (extended, given
	// a Checkout Session, or set to await payment): the ledger records no
	// movement for these, so the hold's own record is all that shows it.
	ChangedOpen bool
}

// holdStory shows a hold's whole story: placed, extended, how it closed,
// the checkout it belongs to and the Stripe events that moved it.
func (c *Console) holdStory(w http.ResponseWriter, r *http.Request) {
	ctx, shop, holdID := r.Context(), shopOf(r), pathVar(r, "hold")
	story, err := c.ledger.HoldStory(ctx, shop, holdID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := holdStoryData{Story: story}
	if d.Checkouts, err = checkout.Find(ctx, c.pool, shop, holdID); err != nil {
		c.fail(w, r, err)
		return
	}
	if sid := story.Record.CheckoutSessionID; sid != nil {
		if d.Events, err = webhooks.SessionEvents(ctx, c.pool, shop, *sid); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	rec := story.Record
	d.ChangedOpen = rec.UpdatedAt.After(rec.CreatedAt) && (rec.ClosedAt == nil || rec.UpdatedAt.Before(*rec.ClosedAt))
	c.render(w, r, http.StatusOK, "hold", "Hold "+holdID, d)
}

// holdURL is the address of a hold's story.
func holdURL(shopID, holdID string) string {
	return shopURL(shopID, "/holds/"+url.PathEscape(holdID))
}
