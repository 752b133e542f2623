package client_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/client"
)

func TestAdjustExpectedOnHand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	shopID := a.shop(t)
	c := a.client(t)
	a.stock(t, shopID, "SKU-1", "size:M", 10)

	counted := func(expected int64) client.AdjustRequest {
		return client.AdjustRequest{Changes: []client.StockChange{
			{SKU: "SKU-1", VariantKey: "size:M", Op: client.OpSet, Quantity: 8, ExpectedOnHand: &expected},
		}}
	}
	_, err := c.Adjust(ctx, shopID, counted(9))
	apiErr := requireAPIError(t, err, http.StatusConflict, client.CodeStaleCount)
	want := []client.StaleCount{{SKU: "SKU-1", VariantKey: "size:M", LocationID: "default", ExpectedOnHand: 9, OnHand: 10}}
	if !slices.Equal(apiErr.StaleCounts, want) || len(apiErr.Items) != 0 {
		t.Errorf("StaleCounts %+v, Items %+v; want %+v and no shortfalls", apiErr.StaleCounts, apiErr.Items, want)
	}
	if !strings.Contains(apiErr.Error(), "SKU-1[size:M] at default expected on hand 9, has 10") {
		t.Errorf("Error() = %q, want the stale set named", apiErr.Error())
	}

	res, err := c.Adjust(ctx, shopID, counted(10))
	if err != nil || res.Applied != 1 || res.Movements[0].Quantity != -2 {
		t.Fatalf("Adjust with a count that holds = %+v, %v; want one movement of -2", res, err)
	}
}
