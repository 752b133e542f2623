package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/checkoutd/checkoutd/inventory/client"
)

// exampleClient starts an authority with onHand units of SKU-123 size:M in
// a fresh shop, and returns a client of it, the shop and the function that
// stops the authority.
func exampleClient(onHand int64) (*client.Client, string, func()) {
	authority, stop := startAuthority(panicTB{})
	shopID := authority.shop(panicTB{})
	authority.stock(panicTB{}, shopID, "SKU-123", "size:M", onHand)
	inv, err := client.New(client.Config{BaseURL: authority.URL, Token: authority.Token})
	if err != nil {
		panic(err)
	}
	return inv, shopID, stop
}

// Checking a cart against the stock without holding anything.
func ExampleClient_Validate() {
	ctx := context.Background()
	inv, shopID, stop := exampleClient(3)
	defer stop()

	for _, quantity := range []int64{3, 4} {
		res, err := inv.Validate(ctx, shopID, []client.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: quantity}})
		if err != nil {
			panic(err)
		}
		fmt.Println(quantity, "OK:", res.OK)
		for _, s := range res.Insufficient {
			fmt.Printf("  short: %s[%s] requested %d, available %d\n", s.SKU, s.VariantKey, s.Requested, s.Available)
		}
	}
	// Output:
	// 3 OK: true
	// 4 OK: false
	//   short: SKU-123[size:M] requested 4, available 3
}

// A customer abandons the cart: releasing the hold gives its units back at
// once, rather than when the hold would have expired.
func ExampleClient_ReleaseHold() {
	ctx := context.Background()
	inv, shopID, stop := exampleClient(3)
	defer stop()

	hold, err := inv.CreateHold(ctx, shopID, client.HoldRequest{
		Items: []client.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 2}},
		TTL:   20 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	available := func() int64 {
		info, err := inv.StockInfo(ctx, shopID, "SKU-123", "size:M")
		if err != nil {
			panic(err)
		}
		return info.Available
	}
	fmt.Println("held, available:", available())

	hold, err = inv.ReleaseHold(ctx, shopID, hold.ID, "cart_abandoned")
	if err != nil {
		panic(err)
	}
	fmt.Println("hold", hold.Status+", available:", available())
	// Output:
	// held, available: 1
	// hold released, available: 3
}

// What the authority refuses arrives as an *APIError with a Code from the
// contract and the fields that code carries.
func ExampleAPIError() {
	ctx := context.Background()
	inv, shopID, stop := exampleClient(1)
	defer stop()

	_, err := inv.CreateHold(ctx, shopID, client.HoldRequest{
		Items: []client.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 0}, {SKU: "no spaces", Quantity: 1}},
	})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Code == client.CodeInvalidRequest {
		for _, d := range apiErr.Details {
			fmt.Printf("%d %s: %s\n", apiErr.Status, d.Field, d.Issue)
		}
	}

	_, err = inv.GetHold(ctx, shopID, "hld_unknown")
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code)
	}
	// Output:
	// 400 items[0].quantity: must be an integer from 1 to 1000000
	// 400 items[1].sku: must be 1-64 characters from A-Z a-z 0-9 . _ : / -
	// 404 not_found
}

// HealthCheck says whether the authority answers and is ready; a call to an
// authority that is down fails with ErrUnavailable, which callers treat as
// "no stock": they fail closed.
func ExampleClient_HealthCheck() {
	ctx := context.Background()
	inv, shopID, stop := exampleClient(1)
	defer stop()
	fmt.Println("healthy:", inv.HealthCheck(ctx))

	stop()
	fmt.Println("healthy:", inv.HealthCheck(ctx))
	_, err := inv.Validate(ctx, shopID, []client.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 1}})
	fmt.Println("unavailable:", errors.Is(err, client.ErrUnavailable))
	// Output:
	// healthy: true
	// healthy: false
	// unavailable: true
}

// A worker's configuration comes from its environment; a bad value is
// named in the error, the token never.
func ExampleConfigFromEnv() {
	os.Setenv("INVENTORY_AUTHORITY_URL", "https://inventory.example.com")
	os.Setenv("INVENTORY_AUTHORITY_TOKEN", "secret-token")
	os.Setenv("INVENTORY_AUTHORITY_TIMEOUT", "1500")
	defer os.Unsetenv("INVENTORY_AUTHORITY_URL")
	defer os.Unsetenv("INVENTORY_AUTHORITY_TOKEN")
	defer os.Unsetenv("INVENTORY_AUTHORITY_TIMEOUT")

	cfg, err := client.ConfigFromEnv()
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.BaseURL, cfg.Timeout)

	os.Setenv("INVENTORY_AUTHORITY_TIMEOUT", "soon")
	_, err = client.ConfigFromEnv()
	fmt.Println(err)
	// Output:
	// https://inventory.example.com 1.5s
	// inventory client config: INVENTORY_AUTHORITY_TIMEOUT="soon": must be a whole number of milliseconds from 1 to 3600000
}
