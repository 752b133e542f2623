package console

import (
	"net/http"
	"net/url"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/checkout"
)

type alertsData struct {
	Alerts   *alerts.Page
	Oversold *checkout.OversoldPage
	// NextAlerts and NextOversold are the addresses of the lists' next
	// pages, "" on the last.
	NextAlerts, NextOversold string
}

// alertsPage lists the shop's alerts with their delivery attempts, and its
// oversold orders; each list pages on its own.
func (c *Console) alertsPage(w http.ResponseWriter, r *http.Request) {
	ctx, shop, q := r.Context(), shopOf(r), r.URL.Query()
	var d alertsData
	var err error
	if d.Alerts, err = alerts.List(ctx, c.pool, shop, 50, q.Get("alerts")); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Oversold, err = checkout.ListOversold(ctx, c.pool, shop, 50, q.Get("oversold")); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Alerts.NextCursor != nil {
		d.NextAlerts = shopURL(shop, "/alerts?"+url.Values{"alerts": {*d.Alerts.NextCursor}, "oversold": {q.Get("oversold")}}.Encode())
	}
	if d.Oversold.NextCursor != nil {
		d.NextOversold = shopURL(shop, "/alerts?"+url.Values{"alerts": {q.Get("alerts")}, "oversold": {*d.Oversold.NextCursor}}.Encode())
	}
	c.render(w, r, http.StatusOK, "alerts", "Alerts and oversold orders", d)
}
