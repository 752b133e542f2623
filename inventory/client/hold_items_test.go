package client_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/inventory/client"
)

// A cart's hold grows and shrinks through SetHoldItems; a shortfall and a
// closed hold come back as their codes.
func TestSetHoldItems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	shopID := a.shop(t)
	c := a.client(t)
	a.stock(t, shopID, "SKU-1", "size:M", 5)
	a.stock(t, shopID, "SKU-2", "", 5)
	hold, err := c.CreateHold(ctx, shopID, client.HoldRequest{Items: []client.Line{{SKU: "SKU-1", VariantKey: "size:M", Quantity: 1}}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}

	got, err := c.SetHoldItems(ctx, shopID, hold.ID, client.SetHoldItemsRequest{
		Items: []client.Line{{SKU: "SKU-1", VariantKey: "size:M", Quantity: 3}, {SKU: "SKU-2", Quantity: 2}}, TTL: 10 * time.Minute, CustomerKey: "customer-7",
	})
	if err != nil {
		t.Fatalf("SetHoldItems: %v", err)
	}
	if len(got.Items) != 2 || got.Items[0].Quantity != 3 || got.Items[1].SKU != "SKU-2" || got.Items[1].Quantity != 2 {
		t.Errorf("items %+v, want SKU-1[size:M] 3 and SKU-2 2", got.Items)
	}
	if !got.ExpiresAt.After(hold.ExpiresAt) {
		t.Errorf("expires at %v, not after %v", got.ExpiresAt, hold.ExpiresAt)
	}

	_, err = c.SetHoldItems(ctx, shopID, hold.ID, client.SetHoldItemsRequest{Items: []client.Line{{SKU: "SKU-2", Quantity: 6}}})
	apiErr := requireAPIError(t, err, http.StatusConflict, client.CodeInsufficientStock)
	if want := (client.Shortfall{SKU: "SKU-2", Requested: 6, Available: 5}); len(apiErr.Items) != 1 || apiErr.Items[0] != want {
		t.Errorf("shortfall %+v, want %+v", apiErr.Items, want)
	}

	if _, err := c.ReleaseHold(ctx, shopID, hold.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = c.SetHoldItems(ctx, shopID, hold.ID, client.SetHoldItemsRequest{Items: []client.Line{{SKU: "SKU-2", Quantity: 1}}})
	if apiErr := requireAPIError(t, err, http.StatusConflict, client.CodeHoldNotActive); apiErr.HoldStatus != client.HoldReleased {
		t.Errorf("status %q, want released", apiErr.HoldStatus)
	}
	if _, err := c.SetHoldItems(ctx, shopID, hold.ID, client.SetHoldItemsRequest{Items: []client.Line{{SKU: "SKU-2", Quantity: 1}}, TTL: time.Millisecond}); err == nil {
		t.Error("a TTL of a millisecond was sent")
	}
}
