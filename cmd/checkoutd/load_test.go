package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLoadCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		token      string // INVENTORY_AUTHORITY_TOKEN
		args       []string
		wantCode   int
		wantStderr string // substring
	}{
		{name: "help", args: []string{"load", "-h"}, wantCode: 0, wantStderr: "-allow-remote"},
		{name: "missing shop", token: "t", args: []string{"load"}, wantCode: 2, wantStderr: "checkoutd load: --shop is required"},
		{name: "invalid shop", token: "t", args: []string{"load", "--shop", "Not Valid"}, wantCode: 2, wantStderr: "checkoutd load: --shop must be a shop id"},
		{
			name: "remote url", token: "t", args: []string{"load", "--shop", "s", "--url", "http://example.com:8080"},
			wantCode: 2, wantStderr: `checkoutd load: --url "http://example.com:8080": host example.com is not loopback`,
		},
		{
			name: "private address", token: "t", args: []string{"load", "--shop", "s", "--url", "http://10.1.2.3"},
			wantCode: 2, wantStderr: "refusing to send load anywhere else without --allow-remote",
		},
		{name: "no token", args: []string{"load", "--shop", "s"}, wantCode: 2, wantStderr: "no token: pass --token or set INVENTORY_AUTHORITY_TOKEN"},
		{name: "bad mode", token: "t", args: []string{"load", "--shop", "s", "--mode", "commit"}, wantCode: 2, wantStderr: "--mode must be one of"},
		{name: "no time bound", token: "t", args: []string{"load", "--shop", "s", "--duration", "0s"}, wantCode: 2, wantStderr: "--duration must be positive"},
		{name: "no clients", token: "t", args: []string{"load", "--shop", "s", "--clients", "0"}, wantCode: 2, wantStderr: "--clients must be from 1"},
		{name: "extra argument", token: "t", args: []string{"load", "--shop", "s", "now"}, wantCode: 2, wantStderr: `checkoutd load: unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, nil)
			t.Setenv("INVENTORY_AUTHORITY_TOKEN", tt.token)
			code, stdout, stderr := runCommand(context.Background(), tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantStderr) || stdout != "" {
				t.Errorf("checkoutd %s = %d\nstdout: %s\nstderr: %s\nwant %d, no stdout, stderr containing %q",
					strings.Join(tt.args, " "), code, stdout, stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}
}

// TestLoadRuns checks the command's wiring against a server that places and
// commits every hold: the token defaults to INVENTORY_AUTHORITY_TOKEN, and a
// run in which nothing succeeds exits 1.
func TestLoadRuns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/healthz":
			w.Write([]byte(`{"status":"ok"}`))
		case r.Header.Get("Authorization") != "Bearer env-token":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"unauthorized","message":"no"}`))
		case r.URL.Path == "/api/inventory/shops/s/holds":
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"hold_1","status":"active"}`))
		case r.URL.Path == "/api/inventory/shops/s/holds/hold_1/commit":
			w.Write([]byte(`{"id":"hold_1","status":"committed"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	setEnv(t, nil)
	t.Setenv("INVENTORY_AUTHORITY_TOKEN", "env-token")

	code, stdout, stderr := runCommand(context.Background(), "load", "--shop", "s", "--url", srv.URL, "--requests", "3", "--clients", "2")
	if code != 0 || !strings.Contains(stdout, "lifecycles: 3 (") || !strings.Contains(stdout, "  commit 200: 3\n") {
		t.Errorf("load = %d\nstdout: %s\nstderr: %s\nwant 0 and 3 committed lifecycles", code, stdout, stderr)
	}

	code, stdout, stderr = runCommand(context.Background(), "load", "--shop", "s", "--url", srv.URL, "--requests", "2", "--token", "wrong")
	if code != 1 || !strings.Contains(stdout, "  hold 401 unauthorized: 2\n") {
		t.Errorf("load with a wrong token = %d\nstdout: %s\nstderr: %s\nwant 1 and 2 unauthorized holds", code, stdout, stderr)
	}
}
