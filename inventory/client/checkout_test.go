package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/client"
)

func TestCreateCheckoutSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	shopID := a.shop(t)
	a.stock(t, shopID, "MUG", "", 10)
	c := a.client(t)
	price, maximum := int64(1200), int64(4)
	cart := func(key string) client.CheckoutRequest {
		return client.CheckoutRequest{
			ShopID: shopID, Mode: "sale", IdempotencyKey: key,
			Items: []client.CheckoutItem{{
				SKU: "MUG", Quantity: 1, Name: "Mug", UnitAmount: &price, Currency: "eur",
				AdjustableQuantity: &client.AdjustableQuantity{Enabled: true, Maximum: &maximum},
			}},
			SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
			Locale: "de", Metadata: map[string]string{"order_id": "1042"},
		}
	}

	hosted, err := c.CreateCheckoutSession(ctx, cart("cart-hosted"))
	if err != nil {
		t.Fatalf("CreateCheckoutSession: %v", err)
	}
	if !strings.HasPrefix(hosted.ID, "cs_") || hosted.URL == nil || hosted.ClientSecret != nil ||
		hosted.UIMode != "hosted" || hosted.InventoryMode != "reserve_ttl" || hosted.ReservationID == nil {
		t.Errorf("hosted session %+v", hosted)
	}
	if info, err := c.StockInfo(ctx, shopID, "MUG", ""); err != nil || info.Reserved != maximum {
		t.Errorf("stock after the checkout: %+v, %v; want the adjustable line's maximum %d reserved", info, err, maximum)
	}
	if p := a.Stripe.LastCall(t); p.Metadata["order_id"] != "1042" || p.Locale == nil || *p.Locale != "de" {
		t.Errorf("Stripe got metadata %v, locale %v", p.Metadata, p.Locale)
	}

	req := cart("cart-embedded")
	req.UIMode, req.ReturnURL, req.SuccessURL, req.CancelURL = "embedded", "https://shop.example/return/{CHECKOUT_SESSION_ID}", "", ""
	embedded, err := c.CreateCheckoutSession(ctx, req)
	if err != nil {
		t.Fatalf("CreateCheckoutSession embedded: %v", err)
	}
	if embedded.URL != nil || embedded.ClientSecret == nil || embedded.UIMode != "embedded" {
		t.Errorf("embedded session %+v: want a client secret and no url", embedded)
	}

	req.SuccessURL = "https://shop.example/ok"
	_, err = c.CreateCheckoutSession(ctx, req)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != client.CodeInvalidRequest || len(apiErr.Details) != 1 || apiErr.Details[0].Field != "successUrl" {
		t.Errorf("embedded with successUrl: %v, want invalid_request naming successUrl", err)
	}
}
