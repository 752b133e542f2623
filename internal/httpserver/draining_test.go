package httpserver

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// A handler that would run until its client leaves ends once the shutdown
// begins, through Draining, so the shutdown need not wait for its timeout.
func TestDrainingEndsLongRequests(t *testing.T) {
	t.Parallel()
	s := New(Options{Pool: closedPortPool(t), Logger: testLogger(t), ShutdownTimeout: 20 * time.Second})
	started := make(chan struct{})
	s.Router().HandleFunc("/forever", func(w http.ResponseWriter, r *http.Request) {
		if Draining(r.Context()) == nil {
			t.Error("Draining is nil inside a request")
		}
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		close(started)
		select {
		case <-Draining(r.Context()):
		case <-r.Context().Done():
			t.Error("the request was cancelled instead of drained")
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/forever")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-started

	begin := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the shutdown waited for the long request")
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("the shutdown took %s", took)
	}
	if Draining(context.Background()) != nil {
		t.Error("Draining outside a request is not nil")
	}
}
