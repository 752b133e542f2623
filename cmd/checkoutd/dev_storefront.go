package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/checkoutd/checkoutd/examples/storefront"
	"github.com/checkoutd/checkoutd/inventory"
)

// storefrontPath is where checkoutd dev serves the storefront example.
const storefrontPath = "/examples/storefront/"

// prepareStorefront readies the demo shop for the storefront example: its
// stock public, a line out of stock and one on backorder beside the seed's
// (so the page shows all four badges), and, unless PUBLIC_CORS_ORIGINS is
// set, any origin allowed, so the page also works opened from elsewhere.
// Safe to run again: the stock goes in under an idempotency key.
func prepareStorefront(ctx context.Context, a *app, ledger *inventory.Ledger) error {
	on := true
	if _, err := ledger.UpdateShop(ctx, devShop, inventory.ShopUpdate{PublicAvailability: &on}); err != nil {
		return fmt.Errorf("turn on public availability of the demo shop: %w", err)
	}
	_, err := ledger.Adjust(ctx, devShop, inventory.AdjustRequest{
		Reference:      "dev-storefront",
		CreatedBy:      "checkoutd dev",
		IdempotencyKey: "dev-storefront-v1",
		Changes: []inventory.StockChange{
			{SKU: "TOTE-CANVAS", Op: inventory.OpSet, Quantity: 0},
			{SKU: "CAP-WOOL", Op: inventory.OpSet, Quantity: 0},
		},
	})
	if err != nil {
		return fmt.Errorf("stock the storefront's lines: %w", err)
	}
	backorder := int64(20)
	if _, err := ledger.UpdateSettings(ctx, devShop, "CAP-WOOL", "", inventory.StockSettings{BackorderLimit: &backorder}); err != nil {
		return fmt.Errorf("allow backorders of CAP-WOOL: %w", err)
	}
	if a.cfg.PublicCORSOrigins == "" {
		a.cfg.PublicCORSOrigins = "*"
	}
	return nil
}

// mountStorefront serves the storefront example at storefrontPath.
func mountStorefront(r *mux.Router) {
	r.PathPrefix(storefrontPath).Handler(http.StripPrefix(storefrontPath, storefront.Handler())).Methods(http.MethodGet, http.MethodHead)
}
