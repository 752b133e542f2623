package httpserver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// httpSeries returns the checkoutd_http_* lines of a scrape.
func httpSeries(t *testing.T, url string) []string {
	t.Helper()
	code, _, body := get(t, url+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	var lines []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "checkoutd_http_") {
			lines = append(lines, l)
		}
	}
	return lines
}

// No request, however odd its method or path, adds a series to /metrics:
// the HTTP metrics' labels come from fixed sets. Three requests with 512 KiB
// methods used to grow the scrape by megabytes.
func TestMetricsLabelsBounded(t *testing.T) {
	s := New(Options{Pool: closedPortPool(t), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	s.Router().HandleFunc("/things/{id}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}).Methods(http.MethodGet)
	url, _, _ := serveInBackground(t, s)

	send := func(method, path string) int {
		t.Helper()
		req, err := http.NewRequest(method, url+path, nil)
		if err != nil {
			t.Fatalf("new request: %v", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%.40s %.40s: %v", method, path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	random := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	// Every series the attack below could touch exists once already.
	httpSeries(t, url)
	send(http.MethodGet, "/things/1")
	send(http.MethodPost, "/things/1")
	send(http.MethodGet, "/nowhere")
	send("BREW", "/things/1")
	send("BREW", "/nowhere")
	before := httpSeries(t, url)

	huge := strings.Repeat("X", 512<<10)
	for range 3 {
		if code := send(huge, "/things/1"); code != http.StatusMethodNotAllowed {
			t.Errorf("a 512 KiB method on a route: %d, want 405", code)
		}
		send(huge, "/"+random(1000))
	}
	for range 50 {
		send(strings.ToUpper(random(8)), "/things/"+random(16))
		send(strings.ToUpper(random(8)), "/"+random(64))
		send(http.MethodGet, "/"+random(64)+"/"+random(64))
		send(http.MethodPost, "/things/"+random(16))
		send(http.MethodGet, "/things/"+random(2000))
	}
	after := httpSeries(t, url)

	if len(after) != len(before) {
		t.Errorf("the requests added %d series to the scrape:\n%s", len(after)-len(before), strings.Join(after, "\n"))
	}
	size := func(lines []string) int { return len(strings.Join(lines, "\n")) }
	// Counters and sums grow by a few digits; nothing else may.
	if grown := size(after) - size(before); grown > 256 {
		t.Errorf("the HTTP series grew by %d bytes, from %d", grown, size(before))
	}
	for _, l := range after {
		if bytes.Contains([]byte(l), []byte("XXXX")) {
			t.Fatalf("a client's method is a label: %.200s", l)
		}
	}
}
