package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// PPROF_ADDR's listener answers Go's profiles, and closes with its context.
func TestStartProfiling(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := startProfiling(ctx, "127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("startProfiling: %v", err)
	}
	url := "http://" + addr.String() + "/debug/pprof/goroutine?debug=1"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET profiles: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Fatalf("GET %s = %d %.80q; want the goroutine profile", url, resp.StatusCode, body)
	}

	cancel()
	// The server closes on its own goroutine: wait for it, up to a bound.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			return
		}
		resp.Body.Close()
	}
	t.Errorf("the profiles still answer 10 s after their context ended")
}
