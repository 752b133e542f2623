package webhooks_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
)

// benchSKUs is how many SKUs the benchmark's checkouts spread over, round
// robin: a few senders share each stock row, as in a busy shop.
const benchSKUs = 8

// BenchmarkCompletedEvents measures the webhook path of a paid checkout:
// each op is one checkout.session.completed (paid) event for a distinct
// reserve_ttl checkout, signed, verified and processed (its hold committed),
// by 1 or 32 senders at once. It reports events/s and the p50 and p99
// latency of one event.
//
//	go test -run '^$' -bench CompletedEvents -benchtime 3s ./webhooks/
func BenchmarkCompletedEvents(b *testing.B) {
	for _, senders := range []int{1, 32} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			ctx := context.Background()
			f := newFixture(b, checkoutd.ModeReserveTTL)
			for i := range benchSKUs {
				f.shop.Stock(b, fmt.Sprintf("SKU-%d", i), 1_000_000)
			}
			payloads := make([][]byte, b.N)
			var next atomic.Int64
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
						s, err := f.createCheckout(inventory.Line{SKU: fmt.Sprintf("SKU-%d", i%benchSKUs), Quantity: 1})
						if err != nil {
							b.Errorf("create checkout: %v", err)
							return
						}
						payloads[i] = f.event(fmt.Sprintf("evt_bench_%d", i), stripe.EventTypeCheckoutSessionCompleted, s, "paid").payload()
					}
				})
			}
			wg.Wait()
			if b.Failed() {
				b.FailNow()
			}
			if _, err := f.pool.Exec(ctx, "ANALYZE stock_lines, stock_levels, holds, hold_allocations, movements, checkouts, stripe_events"); err != nil {
				b.Fatal(err)
			}

			latencies := make([]time.Duration, b.N)
			next.Store(0)
			b.ResetTimer()
			start := time.Now()
			for range senders {
				wg.Go(func() {
					for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
						t0 := time.Now()
						ev, err := f.verifier.Verify(payloads[i], sign(payloads[i], secret, time.Time{}))
						if err != nil {
							b.Errorf("verify: %v", err)
							return
						}
						out, err := f.processor.Process(ctx, ev)
						latencies[i] = time.Since(t0)
						if err != nil || out != checkout.Committed {
							b.Errorf("process %s: %s, %v", ev.ID, out, err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()

			slices.Sort(latencies)
			ms := func(q float64) float64 {
				return float64(latencies[min(len(latencies)-1, int(q*float64(len(latencies))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
		})
	}
}
