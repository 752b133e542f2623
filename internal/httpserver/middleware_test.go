package httpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// A panicking handler answers 500 internal_error, with nothing of the panic
// in the body, and the log line carries the request id.
func TestPanicBecomesInternalError(t *testing.T) {
	var logs bytes.Buffer
	s := New(Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	s.Router().HandleFunc("/boom", func(http.ResponseWriter, *http.Request) {
		panic("secret detail")
	})
	url, _, _ := serveInBackground(t, s)

	req, _ := http.NewRequest(http.MethodGet, url+"/boom", nil)
	req.Header.Set(RequestIDHeader, "req-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != http.StatusInternalServerError || got["error"] != "internal_error" {
		t.Fatalf("GET /boom = %d %s, want 500 internal_error", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "secret") || strings.Contains(string(body), "goroutine") {
		t.Errorf("the 500 body leaks the panic: %s", body)
	}
	if resp.Header.Get(RequestIDHeader) != "req-123" {
		t.Errorf("X-Request-Id = %q, want it echoed", resp.Header.Get(RequestIDHeader))
	}
	if !strings.Contains(logs.String(), `"request_id":"req-123"`) || !strings.Contains(logs.String(), "secret detail") {
		t.Errorf("the panic was not logged with its request id:\n%s", logs.String())
	}
}

// validRequestID keeps exactly the ids the contract's pattern allows.
func TestValidRequestID(t *testing.T) {
	pattern := regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	ids := []string{"", "a", "req-123", "edge-req.42:abc_DEF", strings.Repeat("x", 128), strings.Repeat("x", 129),
		"a b", "a\nb", "a/b", "a%20", "é", "a\x00", "[x]", "a,b", "a;b", "~", "+", "=", "a\tb"}
	for c := range 256 {
		ids = append(ids, "id"+string(rune(c)), string([]byte{byte(c)}))
	}
	for _, id := range ids {
		if got, want := validRequestID(id), pattern.MatchString(id); got != want {
			t.Errorf("validRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}
