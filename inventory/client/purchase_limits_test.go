package client_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/client"
)

func TestPurchaseLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	shopID := a.shop(t)
	a.stock(t, shopID, "DROP", "", 10)
	c := a.client(t)
	perOrder, perCustomer := int64(3), int64(2)
	info, err := c.UpdateStockSettings(ctx, shopID, "DROP", "", client.StockSettings{MaxPerOrder: &perOrder, MaxPerCustomer: &perCustomer})
	if err != nil || info.MaxPerOrder != 3 || info.MaxPerCustomer != 2 {
		t.Fatalf("UpdateStockSettings = %+v, %v; want limits 3 and 2", info, err)
	}
	items := []client.Line{{SKU: "DROP", Quantity: 2}}
	if _, err := c.CreateHold(ctx, shopID, client.HoldRequest{Items: items, CustomerKey: "acct_1"}); err != nil {
		t.Fatalf("CreateHold: %v", err)
	}
	_, err = c.CreateHold(ctx, shopID, client.HoldRequest{Items: []client.Line{{SKU: "DROP", Quantity: 1}}, CustomerKey: "acct_1"})
	apiErr := requireAPIError(t, err, http.StatusConflict, client.CodeLimitExceeded)
	if b := apiErr.LimitBreaches; len(b) != 1 || b[0].Kind != "per_customer" || b[0].Limit != 2 || b[0].Remaining == nil || *b[0].Remaining != 0 {
		t.Errorf("LimitBreaches = %+v, want one per_customer, limit 2, remaining 0", b)
	}
	_, err = c.CreateHold(ctx, shopID, client.HoldRequest{Items: items})
	requireAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)
}
