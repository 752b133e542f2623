package httpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer the server's goroutines may write to while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// TestAccessLogLevels: what succeeded without changing anything is logged at
// debug, everything else at info (error for a 5xx), each line with the
// same fields.
func TestAccessLogLevels(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	s := New(Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
	}
	s.Router().Handle("/read", status(http.StatusOK)).Methods(http.MethodGet, http.MethodHead)
	s.Router().Handle("/missing", status(http.StatusNotFound)).Methods(http.MethodGet)
	s.Router().Handle("/broken", status(http.StatusBadGateway)).Methods(http.MethodGet)
	s.Router().Handle("/write", status(http.StatusCreated)).Methods(http.MethodPost)
	s.Router().HandleFunc("/ask", func(w http.ResponseWriter, r *http.Request) {
		MarkRead(r.Context())
		w.WriteHeader(http.StatusOK)
	}).Methods(http.MethodPost)
	s.Router().HandleFunc("/ask-wrong", func(w http.ResponseWriter, r *http.Request) {
		MarkRead(r.Context())
		w.WriteHeader(http.StatusBadRequest)
	}).Methods(http.MethodPost)

	want := []struct{ method, path, level string }{
		{http.MethodGet, "/read", "DEBUG"},
		{http.MethodHead, "/read", "DEBUG"},
		{http.MethodGet, "/missing", "INFO"},
		{http.MethodGet, "/broken", "ERROR"},
		{http.MethodPost, "/write", "INFO"},
		{http.MethodPost, "/ask", "DEBUG"},
		{http.MethodPost, "/ask-wrong", "INFO"},
	}
	for _, w := range want {
		s.Router().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(w.method, w.path, nil))
	}
	lines := logs.lines(t)
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d: %v", len(lines), len(want), lines)
	}
	for i, w := range want {
		l := lines[i]
		if l["level"] != w.level || l["method"] != w.method || l["path"] != w.path {
			t.Errorf("%s %s logged %v, want level %s", w.method, w.path, l, w.level)
		}
		for _, field := range []string{"request_id", "route", "status", "duration_ms"} {
			if _, ok := l[field]; !ok {
				t.Errorf("%s %s: the line has no %s: %v", w.method, w.path, field, l)
			}
		}
	}
}
