package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/client"
)

func TestReturns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	shopID := a.shop(t)
	a.stock(t, shopID, "MUG", "", 10)
	c := a.client(t)
	hold, err := c.CreateHold(ctx, shopID, client.HoldRequest{Items: []client.Line{{SKU: "MUG", Quantity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CommitHold(ctx, shopID, hold.ID, "order-1"); err != nil {
		t.Fatal(err)
	}
	req := client.ReturnRequest{Items: []client.ReturnItem{{SKU: "MUG", Quantity: 2}}, Reason: "wrong colour", IdempotencyKey: "rma-1"}
	ret, err := c.CreateReturn(ctx, shopID, hold.ID, req)
	if err != nil {
		t.Fatalf("CreateReturn: %v", err)
	}
	if !strings.HasPrefix(ret.ID, "ret_") || !ret.Restock || ret.HoldID != hold.ID || len(ret.Items) != 1 || ret.Items[0].LocationID != "default" {
		t.Errorf("CreateReturn = %+v", ret)
	}
	again, err := c.CreateReturn(ctx, shopID, hold.ID, req)
	if err != nil || again.ID != ret.ID {
		t.Errorf("replay = %+v, %v; want %s", again, err, ret.ID)
	}
	_, err = c.CreateReturn(ctx, shopID, hold.ID, client.ReturnRequest{Items: []client.ReturnItem{{SKU: "MUG", Quantity: 2}}, NoRestock: true})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != client.CodeReturnExceedsSale || apiErr.SKU != "MUG" || apiErr.LocationID != "" {
		t.Errorf("over the sale: %v", err)
	}
	if info, err := c.StockInfo(ctx, shopID, "MUG", ""); err != nil || info.OnHand != 9 {
		t.Errorf("stock after return: %+v, %v", info, err)
	}
	rentals, err := c.ListRentals(ctx, shopID, "overdue", 10, "")
	if err != nil || len(rentals.Items) != 0 || rentals.NextCursor != "" {
		t.Errorf("ListRentals = %+v, %v", rentals, err)
	}
	rets, err := c.ListReturns(ctx, shopID, hold.ID)
	if err != nil || len(rets) != 1 || rets[0].ID != ret.ID || rets[0].Reason != "wrong colour" {
		t.Errorf("ListReturns = %+v, %v", rets, err)
	}
}
