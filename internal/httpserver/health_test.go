package httpserver

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

var readyPaths = []string{"/readyz", "/api/inventory/health"}

func TestHealthzAnswersWithoutDatabase(t *testing.T) {
	url := start(t, New(Options{Pool: closedPortPool(t), Logger: testLogger(t)}))

	code, ctype, body := get(t, url+"/healthz")
	if code != http.StatusOK || ctype != "application/json" || body != `{"status":"ok"}`+"\n" {
		t.Errorf("GET /healthz = %d %q %q, want 200 application/json {\"status\":\"ok\"}", code, ctype, body)
	}
}

func TestReadyWithMigratedDatabase(t *testing.T) {
	url := start(t, New(Options{Pool: testdb.Pool(t), Logger: testLogger(t)}))

	for _, path := range readyPaths {
		code, ctype, body := get(t, url+path)
		if code != http.StatusOK || ctype != "application/json" || body != `{"status":"ok"}`+"\n" {
			t.Errorf("GET %s = %d %q %q, want 200 application/json {\"status\":\"ok\"}", path, code, ctype, body)
		}
	}
}

func TestReadyUnavailableWhenDatabaseDown(t *testing.T) {
	url := start(t, New(Options{Pool: closedPortPool(t), Logger: testLogger(t)}))

	for _, path := range readyPaths {
		began := time.Now()
		code, ctype, body := get(t, url+path)
		if code != http.StatusServiceUnavailable || ctype != "application/json" || body != `{"status":"unavailable"}`+"\n" {
			t.Errorf("GET %s = %d %q %q, want 503 application/json {\"status\":\"unavailable\"}", path, code, ctype, body)
		}
		if took := time.Since(began); took > readyTimeout+time.Second {
			t.Errorf("GET %s took %v, want it bounded by the %v readiness timeout", path, took, readyTimeout)
		}
	}
}

// TestReadyUnavailableWhenNotMigrated points the readiness check at a
// database that answers but has no migrations applied.
func TestReadyUnavailableWhenNotMigrated(t *testing.T) {
	empty, err := pgxpool.New(context.Background(), testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(empty.Close)

	url := start(t, New(Options{Pool: empty, Logger: testLogger(t)}))
	for _, path := range readyPaths {
		code, _, body := get(t, url+path)
		if code != http.StatusServiceUnavailable || body != `{"status":"unavailable"}`+"\n" {
			t.Errorf("GET %s = %d %q, want 503 {\"status\":\"unavailable\"}", path, code, body)
		}
	}
}

func TestHealthRejectsOtherMethods(t *testing.T) {
	url := start(t, New(Options{Pool: closedPortPool(t), Logger: testLogger(t)}))

	resp, err := http.Post(url+"/healthz", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", resp.StatusCode)
	}
}

func TestMetrics(t *testing.T) {
	reg := NewRegistry()
	url := start(t, New(Options{Pool: closedPortPool(t), Registry: reg, Logger: testLogger(t)}))

	code, _, body := get(t, url+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", code)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "promhttp_metric_handler_requests_total"} {
		if !strings.Contains(body, name) {
			t.Errorf("GET /metrics lacks %s", name)
		}
	}
}
