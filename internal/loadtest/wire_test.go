package loadtest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wireTo returns a wire to srv.
func wireTo(t *testing.T, ctx context.Context, srv *httptest.Server, timeout time.Duration) *wire {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	w := newWire(ctx, u, timeout)
	t.Cleanup(w.close)
	return w
}

// The wire sends what net/http's server reads as the request, and reads
// answers of every framing: a length, chunks, and a close.
func TestWireRequestsAndFramings(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			w.Header().Set("X-Got", r.Method+" "+r.Host+" "+r.Header.Get("Authorization")+" "+r.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(body)
		case "/chunked":
			for range 3 {
				_, _ = w.Write([]byte(strings.Repeat("x", 4000)))
				w.(http.Flusher).Flush()
			}
		case "/close":
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte("bye"))
		case "/large":
			_, _ = w.Write(make([]byte, maxBody+1))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	w := wireTo(t, context.Background(), srv, 5*time.Second)
	auth := []byte("Authorization: Bearer tok\r\n")

	status, body, err := w.do(http.MethodPost, "/echo", auth, []byte(`{"a":1}`))
	if err != nil || status != http.StatusCreated || string(body) != `{"a":1}` {
		t.Fatalf("POST /echo = %d %q %v", status, body, err)
	}
	status, body, err = w.do(http.MethodGet, "/chunked", auth, nil)
	if err != nil || status != http.StatusOK || len(body) != 12000 {
		t.Fatalf("GET /chunked = %d, %d bytes, %v; want 200, 12000 bytes", status, len(body), err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for two requests, want 1 kept alive", n)
	}
	if status, body, err = w.do(http.MethodGet, "/close", auth, nil); err != nil || status != http.StatusOK || string(body) != "bye" {
		t.Fatalf("GET /close = %d %q %v", status, body, err)
	}
	if _, _, err = w.do(http.MethodGet, "/echo", auth, nil); err != nil {
		t.Fatalf("GET after the server closed: %v", err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections after the server closed one, want 2", n)
	}
	if _, _, err = w.do(http.MethodGet, "/large", auth, nil); !errors.Is(err, errBodyTooLarge) {
		t.Errorf("GET /large = %v, want %v", err, errBodyTooLarge)
	}
}

// A request that outlasts the timeout fails, and so does one in flight
// when the run ends.
func TestWireTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)

	w := wireTo(t, context.Background(), srv, 50*time.Millisecond)
	if _, _, err := w.do(http.MethodGet, "/", nil, nil); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("slow answer = %v, want a timeout", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	w = wireTo(t, ctx, srv, time.Minute)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, _, err := w.do(http.MethodGet, "/", nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("request when the run ended = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("cancelled request took %v", took)
	}
}
