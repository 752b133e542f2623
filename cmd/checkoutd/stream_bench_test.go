//go:build streambench

package main

// The live stream with thousands of subscribers on one checkoutd serve
// process over HTTP: memory per subscriber, commit-to-delivery latency and
// the server's CPU while changes fan out. Not part of make test:
//
//	scripts/with-postgres go test -tags streambench -run TestStreamFanOut -v -timeout 20m ./cmd/checkoutd/
//
// STREAM_SUBSCRIBERS (default 5000) and STREAM_CHANGES (default 20) size it.
// The server is this tree's binary in a process of its own, so the client
// side (this test) counts in neither its memory nor its CPU.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func TestStreamFanOut(t *testing.T) {
	subscribers := envInt("STREAM_SUBSCRIBERS", 5000)
	changes := envInt("STREAM_CHANGES", 20)
	const token = "bench-token"
	shop := "stream-bench-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)

	bin := filepath.Join(t.TempDir(), "checkoutd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--workers=false")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+testdb.URL(t), "HTTP_ADDR="+addr,
		"INVENTORY_AUTHORITY_TOKEN="+token, "LOG_LEVEL=error", "RATE_LIMIT_PER_SHOP=0",
		"PUBLIC_RATE_LIMIT=0", "PUBLIC_STREAMS_PER_IP=0", "AVAILABILITY_MAX_SUBSCRIBERS="+strconv.Itoa(subscribers+100))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	base := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			t.Fatal("the server did not get ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	api := func(method, path, body string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	api("POST", "/api/inventory/shops", `{"id":"`+shop+`"}`)
	api("PATCH", "/api/inventory/shops/"+shop, `{"publicAvailability":true}`)
	var lines []string
	for i := range 50 {
		lines = append(lines, fmt.Sprintf(`{"sku":"SKU-%d","op":"set","quantity":100}`, i))
	}
	lines = append(lines, `{"sku":"HOT","op":"set","quantity":1000}`)
	api("POST", "/api/inventory/shops/"+shop+"/adjustments", `{"reference":"bench","changes":[`+strings.Join(lines, ",")+`]}`)

	before := scrape(t, base)

	// Every subscriber watches HOT and two other SKUs.
	var (
		mu       sync.Mutex
		arrivals = map[int][]time.Time{} // HOT's available -> when each subscriber saw it
		ready    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready.Add(subscribers)
	for i := range subscribers {
		path := fmt.Sprintf("/api/public/shops/%s/availability/stream?sku=HOT&sku=SKU-%d&sku=SKU-%d", shop, i%50, (i+7)%50)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("subscriber %d: %v", i, err)
		}
		context.AfterFunc(ctx, func() { conn.Close() })
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, addr)
		go func() {
			r := bufio.NewReader(conn)
			seen := 0
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if !strings.HasPrefix(line, "data: ") || !strings.Contains(line, `"HOT"`) {
					continue
				}
				at := time.Now()
				_, rest, _ := strings.Cut(line, `"available":`)
				n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
				seen++
				if seen == 1 {
					ready.Done()
					continue
				}
				mu.Lock()
				arrivals[n] = append(arrivals[n], at)
				mu.Unlock()
			}
		}()
	}
	connected := time.Now()
	ready.Wait()
	t.Logf("%d subscribers received their current state in %s", subscribers, time.Since(connected).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	withSubs := scrape(t, base)

	// Changes of HOT, one every 500 ms; each is timed from before its
	// request was sent, so the latency includes the request itself.
	sent := map[int]time.Time{}
	for c := range changes {
		q := 999 - c
		sent[q] = time.Now()
		api("POST", "/api/inventory/shops/"+shop+"/adjustments",
			fmt.Sprintf(`{"reference":"bench","changes":[{"sku":"HOT","op":"set","quantity":%d}]}`, q))
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	after := scrape(t, base)

	mu.Lock()
	var lat []time.Duration
	missing := 0
	for q, at := range sent {
		got := arrivals[q]
		missing += subscribers - len(got)
		for _, a := range got {
			lat = append(lat, a.Sub(at))
		}
	}
	mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	changePhase := float64(changes)*0.5 + 2
	t.Logf("subscribers %d, changes %d, deliveries %d, missing %d (a change coalesced into the next is not missing for the client)",
		subscribers, changes, len(lat), missing)
	t.Logf("commit to delivery: p50 %s, p90 %s, p99 %s, max %s",
		pct(0.50).Round(time.Millisecond), pct(0.90).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), pct(1).Round(time.Millisecond))
	t.Logf("server memory: RSS %.0f -> %.0f MB (%.1f KB per subscriber), Go heap in use %.0f -> %.0f MB (%.1f KB per subscriber), goroutines %.0f -> %.0f",
		before["process_resident_memory_bytes"]/1e6, withSubs["process_resident_memory_bytes"]/1e6,
		(withSubs["process_resident_memory_bytes"]-before["process_resident_memory_bytes"])/float64(subscribers)/1e3,
		before["go_memstats_heap_inuse_bytes"]/1e6, withSubs["go_memstats_heap_inuse_bytes"]/1e6,
		(withSubs["go_memstats_heap_inuse_bytes"]-before["go_memstats_heap_inuse_bytes"])/float64(subscribers)/1e3,
		before["go_goroutines"], withSubs["go_goroutines"])
	t.Logf("server CPU: %.2f s while subscribing, %.2f s over the %.0f s of changes (%.0f%% of one core)",
		withSubs["process_cpu_seconds_total"]-before["process_cpu_seconds_total"],
		after["process_cpu_seconds_total"]-withSubs["process_cpu_seconds_total"], changePhase,
		100*(after["process_cpu_seconds_total"]-withSubs["process_cpu_seconds_total"])/changePhase)
}

// scrape reads the server's unlabelled metrics.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out
}
