package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
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
	for range 100 {
		if _, err = http.Get(url); err != nil {
			return
		}
	}
	t.Errorf("the profiles still answer after their context ended")
}
