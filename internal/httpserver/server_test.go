package httpserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// blockingHandler is mounted on a server's router and holds each request
// until release is closed.
type blockingHandler struct {
	entered chan struct{}
	release chan struct{}
}

func newBlockingHandler(t *testing.T) *blockingHandler {
	h := &blockingHandler{entered: make(chan struct{}, 1), release: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-h.release:
		default:
			close(h.release)
		}
	})
	return h
}

func (h *blockingHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.entered <- struct{}{}
	<-h.release
	writeStatus(w, http.StatusOK, "done")
}

func serveInBackground(t *testing.T, s *Server) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), cancel, served
}

func TestServeFinishesInFlightRequestsOnShutdown(t *testing.T) {
	s := New(Options{Pool: closedPortPool(t), Logger: testLogger(t)})
	h := newBlockingHandler(t)
	s.Router().Handle("/slow", h)
	url, cancel, served := serveInBackground(t, s)

	type result struct {
		code int
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		done <- result{code: resp.StatusCode, body: string(body), err: err}
	}()
	<-h.entered

	cancel()
	// Shutdown closes the listener at once: new connections are refused
	// while the in-flight request goes on.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := fresh.Get(url + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("new connections still accepted 5s after shutdown began")
		}
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v while a request was in flight", err)
	default:
	}

	close(h.release)
	r := <-done
	if r.err != nil || r.code != http.StatusOK || r.body != `{"status":"done"}`+"\n" {
		t.Errorf("in-flight request = %d %q %v, want 200 {\"status\":\"done\"}", r.code, r.body, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the in-flight request finished")
	}
}

func TestServeShutdownIsBounded(t *testing.T) {
	s := New(Options{Pool: closedPortPool(t), Logger: testLogger(t), ShutdownTimeout: 200 * time.Millisecond})
	h := newBlockingHandler(t)
	s.Router().Handle("/stuck", h)
	url, cancel, served := serveInBackground(t, s)

	go func() {
		if resp, err := http.Get(url + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-h.entered

	began := time.Now()
	cancel()
	select {
	case err := <-served:
		if err == nil || !strings.Contains(err.Error(), "requests still in flight after 200ms") {
			t.Errorf("Serve = %v, want shutdown timeout error", err)
		}
		if took := time.Since(began); took > 2*time.Second {
			t.Errorf("shutdown took %v, want about 200ms", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the shutdown timeout")
	}
}

func TestRunReportsListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	s := New(Options{Addr: ln.Addr().String(), Pool: closedPortPool(t), Logger: testLogger(t)})
	err = s.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) {
		t.Errorf("Run on a taken port = %v, want listen error naming the address", err)
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	s := New(Options{Addr: addr, Pool: closedPortPool(t), Logger: testLogger(t)})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()

	var code int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			code = resp.StatusCode
			resp.Body.Close()
			break
		}
	}
	if code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", code)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}
