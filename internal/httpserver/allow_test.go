package httpserver

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// A 405 names, in its Allow header, exactly the methods served on the path:
// for the server's own routes and for routes mounted after New, whatever
// their path variables, and never HEAD for a route that declares only GET.
func TestMethodNotAllowedListsAllowedMethods(t *testing.T) {
	t.Parallel()
	s := New(Options{Pool: closedPortPool(t), Logger: testLogger(t)})
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	r := s.Router()
	r.HandleFunc("/things/{id:[0-9]+}", ok).Methods(http.MethodGet)
	r.HandleFunc("/things/{id:[0-9]+}", ok).Methods(http.MethodPut, http.MethodDelete)
	r.HandleFunc("/things/{name:[a-z]+}", ok).Methods(http.MethodPost)
	r.HandleFunc("/things/{id}/parts", ok).Methods(http.MethodPatch)
	r.HandleFunc("/feed", ok).Methods(http.MethodGet, http.MethodHead, http.MethodOptions)
	r.HandleFunc("/hooks/in", ok).Methods(http.MethodPost)
	url := start(t, s)

	for _, tc := range []struct {
		method, path, allow string
	}{
		{http.MethodPost, "/healthz", "GET"},
		{http.MethodHead, "/readyz", "GET"},
		{http.MethodPut, "/api/inventory/health", "GET"},
		{http.MethodPost, "/metrics", "GET"},
		{http.MethodPost, "/things/42", "DELETE, GET, PUT"},
		{http.MethodGet, "/things/abc", "POST"},
		{http.MethodGet, "/things/x/parts", "PATCH"},
		{http.MethodPost, "/feed", "GET, HEAD, OPTIONS"},
		{http.MethodGet, "/hooks/in", "POST"},
		{"BREW", "/things/7", "DELETE, GET, PUT"},
	} {
		req, err := http.NewRequest(tc.method, url+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s = %d, want 405", tc.method, tc.path, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if tc.method == http.MethodHead {
			continue
		}
		var body struct{ Error, Message string }
		if err := json.Unmarshal(raw, &body); err != nil || body.Error != "method_not_allowed" || body.Message == "" {
			t.Errorf("%s %s: body %s, want method_not_allowed", tc.method, tc.path, raw)
		}
	}

	// A path no route serves stays a 404, with no Allow.
	resp, err := http.Post(url+"/things/x-1", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Allow") != "" {
		t.Errorf("POST /things/x-1 = %d Allow %q, want 404 without Allow", resp.StatusCode, resp.Header.Get("Allow"))
	}
}
