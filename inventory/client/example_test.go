package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/inventory/client"
)

// checkoutHandler is an edge worker's checkout route: it validates the
// cart against the inventory authority and fails closed, answering as the
// integration guide's "Worker Validation Errors" prescribes.
func checkoutHandler(inv *client.Client, shopID string, log *slog.Logger) http.HandlerFunc {
	reply := func(w http.ResponseWriter, status int, body any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		var cart struct {
			Items []client.Line `json:"items"`
		}
		if err := json.NewDecoder(r.Body).Decode(&cart); err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		res, err := inv.Validate(r.Context(), shopID, cart.Items)
		var apiErr *client.APIError
		switch {
		case errors.Is(err, client.ErrUnavailable):
			reply(w, http.StatusServiceUnavailable, map[string]string{"error": "inventory_unavailable"})
		case errors.Is(err, client.ErrTimeout):
			reply(w, http.StatusGatewayTimeout, map[string]string{"error": "inventory_timeout"})
		case errors.Is(err, client.ErrAuthentication):
			log.Error("inventory authentication failed: check INVENTORY_AUTHORITY_TOKEN", "error", err)
			reply(w, http.StatusInternalServerError, map[string]string{"error": "internal_error"})
		case errors.As(err, &apiErr) && apiErr.Code == client.CodeInvalidRequest:
			reply(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "details": apiErr.Details})
		case err != nil:
			log.Error("inventory validation failed", "error", err)
			reply(w, http.StatusInternalServerError, map[string]string{"error": "internal_error"})
		case !res.OK:
			reply(w, http.StatusConflict, map[string]any{"error": "insufficient_stock", "items": res.Insufficient})
		default:
			// In stock: this is where the checkout session would be created.
			reply(w, http.StatusOK, map[string]string{"status": "proceed"})
		}
	}
}

// An edge worker validating carts before checkout, failing closed when the
// authority cannot answer.
func Example() {
	// A checkoutd server with one unit of SKU-123 size:M in a fresh shop.
	authority, stop := startAuthority(panicTB{})
	defer stop()
	shopID := authority.shop(panicTB{})
	authority.stock(panicTB{}, shopID, "SKU-123", "size:M", 1)

	// In a worker, the config comes from client.ConfigFromEnv().
	inv, err := client.New(client.Config{
		BaseURL: authority.URL + "/api/inventory",
		Token:   authority.Token,
		Timeout: 5 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	checkout := checkoutHandler(inv, shopID, slog.New(slog.DiscardHandler))

	post := func(h http.HandlerFunc, cart string) {
		w := httptest.NewRecorder()
		h(w, httptest.NewRequest(http.MethodPost, "/checkout", strings.NewReader(cart)))
		fmt.Print(w.Code, " ", w.Body.String())
	}
	post(checkout, `{"items": [{"sku": "SKU-123", "variantKey": "size:M", "quantity": 1}]}`)
	post(checkout, `{"items": [{"sku": "SKU-123", "variantKey": "size:M", "quantity": 2}]}`)
	post(checkout, `{"items": [{"sku": "SKU-123", "variantKey": "size:M", "quantity": 0}]}`)

	// The authority goes down: checkouts are refused, not let through.
	stop()
	fmt.Println("healthy:", inv.HealthCheck(context.Background()))
	post(checkout, `{"items": [{"sku": "SKU-123", "variantKey": "size:M", "quantity": 1}]}`)

	// Output:
	// 200 {"status":"proceed"}
	// 409 {"error":"insufficient_stock","items":[{"sku":"SKU-123","variantKey":"size:M","requested":2,"available":1}]}
	// 400 {"details":[{"field":"items[0].quantity","issue":"must be an integer from 1 to 1000000"}],"error":"invalid_request"}
	// healthy: false
	// 503 {"error":"inventory_unavailable"}
}

// Holding stock for a checkout, then selling it once the order is paid.
func ExampleClient_CreateHold() {
	ctx := context.Background()
	authority, stop := startAuthority(panicTB{})
	defer stop()
	shopID := authority.shop(panicTB{})
	authority.stock(panicTB{}, shopID, "SKU-123", "size:M", 3)

	inv, err := client.New(client.Config{BaseURL: authority.URL, Token: authority.Token})
	if err != nil {
		panic(err)
	}

	// The idempotency key makes a retry after a timeout safe.
	hold, err := inv.CreateHold(ctx, shopID, client.HoldRequest{
		Items:          []client.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 2}},
		TTL:            20 * time.Minute,
		IdempotencyKey: "cart-42",
		Reference:      "cart-42",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("hold", hold.Status, hold.Items[0].Quantity, "×", hold.Items[0].SKU)

	// Another cart wants more than is left.
	_, err = inv.CreateHold(ctx, shopID, client.HoldRequest{
		Items: []client.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 2}},
	})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Code == client.CodeInsufficientStock {
		for _, s := range apiErr.Items {
			fmt.Printf("short: %s[%s] requested %d, available %d\n", s.SKU, s.VariantKey, s.Requested, s.Available)
		}
	}

	// Payment succeeded.
	hold, err = inv.CommitHold(ctx, shopID, hold.ID, "order-123")
	if err != nil {
		panic(err)
	}
	fmt.Println("hold", hold.Status)

	// A late "payment failed" cannot undo the sale.
	_, err = inv.ReleaseHold(ctx, shopID, hold.ID, "payment_failed")
	if errors.As(err, &apiErr) && apiErr.Code == client.CodeHoldNotActive {
		fmt.Println("release refused: hold is", apiErr.HoldStatus)
	}

	info, err := inv.StockInfo(ctx, shopID, "SKU-123", "size:M")
	if err != nil {
		panic(err)
	}
	fmt.Printf("on hand %d, reserved %d, available %d\n", info.OnHand, info.Reserved, info.Available)

	// Output:
	// hold active 2 × SKU-123
	// short: SKU-123[size:M] requested 2, available 1
	// hold committed
	// release refused: hold is committed
	// on hand 1, reserved 0, available 1
}

// panicTB stands in for a *testing.T in examples, which have none, in the
// manner of River's testutil.PanicTB: it panics where a test would fail.
// testing.TB cannot be implemented outside package testing, so it embeds a
// nil TB and overrides what the helpers call; anything else panics too.
type panicTB struct{ testing.TB }

func (panicTB) Helper()                           {}
func (panicTB) Name() string                      { return "Example" }
func (panicTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (panicTB) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (panicTB) FailNow()                          { panic("FailNow") }
