package availability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/availability"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// A storefront stream: subscribe to a product's SKUs, send the current
// state, then every change, as SSE events would carry them.
func ExampleFeed_Subscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The package's test database, and a shop no test uses.
	pool, shopID := testdb.Pool(panicTB{}), testdb.ShopID(panicTB{})
	logger := slog.New(slog.DiscardHandler)
	ledger := inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: 3, Logger: logger})
	if _, err := ledger.CreateShop(ctx, shopID, "Example"); err != nil {
		log.Fatal(err)
	}
	if _, err := ledger.Adjust(ctx, shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{
		{SKU: "TEE", VariantKey: "size:M", Op: inventory.OpSet, Quantity: 4},
	}}); err != nil {
		log.Fatal(err)
	}

	// One Feed per process, running for as long as the process serves.
	feed := availability.NewFeed(ledger, availability.Config{Logger: logger})
	go func() { _ = feed.Run(ctx) }()

	// One subscription per open stream; the request's context ends it.
	sub, err := feed.Subscribe(ctx, shopID, []string{"TEE"})
	if err != nil {
		log.Fatal(err)
	}
	send := func(want int) {
		for sent := 0; sent < want; {
			select {
			case <-sub.Ready():
				for _, c := range sub.Take() {
					data, _ := json.Marshal(c.Item) // the public fields only
					fmt.Printf("event: stock\ndata: %s\n\n", data)
					sent++
				}
			case <-sub.Done():
				return
			case <-time.After(5 * time.Second):
				fmt.Println(": heartbeat")
				return
			}
		}
	}
	send(1) // the current state

	if _, _, err := ledger.Reserve(ctx, shopID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "TEE", VariantKey: "size:M", Quantity: 2}}, TTL: time.Minute,
	}); err != nil {
		log.Fatal(err)
	}
	send(1) // the hold
	// Output:
	// event: stock
	// data: {"sku":"TEE","variantKey":"size:M","available":4,"lowStock":false,"backorderAllowed":false}
	//
	// event: stock
	// data: {"sku":"TEE","variantKey":"size:M","available":2,"lowStock":true,"backorderAllowed":false}
}

// panicTB stands in for a *testing.T in examples, which have none: it
// panics where a test would fail (as in inventory's examples).
type panicTB struct{ testing.TB }

func (panicTB) Helper()                           {}
func (panicTB) Name() string                      { return "Example" }
func (panicTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
