package availability_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/availability"
)

// BenchmarkFanOut5000 measures one process's feed with 5,000 subscribers of
// one line, each read by its own goroutine as an SSE handler would: one
// operation is one committed hold and its delivery to all of them. It
// reports the feed's memory per subscription, the latency from the hold's
// commit returning to each delivery (p50, p99), and the process's CPU time
// per operation.
//
//	go test -run '^$' -bench FanOut5000 -benchtime 20x ./availability/
func BenchmarkFanOut5000(b *testing.B) {
	const subscribers = 5000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFixture(b, availability.Config{MaxSubscribers: subscribers})
	const stock = 1_000_000
	f.shop.Stock(b, "A", stock)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	subs := make([]*availability.Subscription, subscribers)
	for i := range subs {
		sub, err := f.feed.Subscribe(ctx, f.shop.ID, []string{"A"})
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = sub
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perSub := float64(after.HeapAlloc-before.HeapAlloc) / subscribers

	var want atomic.Int64
	want.Store(stock)
	received := make([]time.Time, subscribers)
	var wg sync.WaitGroup
	wg.Add(subscribers)
	for i, sub := range subs {
		go func() {
			var seen int64 = -1
			for {
				changes, err := sub.Next(ctx)
				if err != nil {
					return
				}
				for _, c := range changes {
					if v := c.Item.Available; v == want.Load() && v != seen {
						seen = v
						received[i] = time.Now()
						wg.Done()
					}
				}
			}
		}()
	}
	wg.Wait() // every subscriber has the current state

	var latencies []time.Duration
	cpu := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		wg.Add(subscribers)
		want.Store(stock - int64(i) - 1)
		f.shop.Hold(b, 0, 1, "A")
		committed := time.Now()
		wg.Wait()
		for _, r := range received {
			latencies = append(latencies, max(r.Sub(committed), 0))
		}
	}
	b.StopTimer()
	cpu = cpuTime() - cpu
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(perSub, "B/subscriber")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	cancel()
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
