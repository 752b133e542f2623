package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer ok.Close()
	setEnv(t, map[string]string{"HTTP_ADDR": strings.TrimPrefix(ok.URL, "http://")})
	if code, _, stderr := runCommand(context.Background(), "healthcheck"); code != 0 {
		t.Errorf("healthcheck of a healthy server = %d, stderr: %s", code, stderr)
	}
	if code, _, stderr := runCommand(context.Background(), "healthcheck", "--url", ok.URL+"/missing"); code != 1 || !strings.Contains(stderr, "404") {
		t.Errorf("healthcheck of a 404 = %d, stderr: %s; want 1 naming the status", code, stderr)
	}
	setEnv(t, map[string]string{"HTTP_ADDR": freeAddr(t)})
	if code, _, stderr := runCommand(context.Background(), "healthcheck"); code != 1 || !strings.Contains(stderr, "connection refused") {
		t.Errorf("healthcheck with nothing listening = %d, stderr: %s; want 1", code, stderr)
	}
}

func TestLocalAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		":8080":          "127.0.0.1:8080",
		"0.0.0.0:8080":   "127.0.0.1:8080",
		"[::]:8080":      "127.0.0.1:8080",
		"10.0.0.5:9000":  "10.0.0.5:9000",
		"localhost:8080": "localhost:8080",
	} {
		if got := localAddr(in); got != want {
			t.Errorf("localAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnvFile(t *testing.T) {
	dir := t.TempDir()
	setEnv(t, nil)
	t.Setenv("CHECKOUTD_ENV_FILE", "")
	t.Chdir(dir)
	if err := os.WriteFile(".env", []byte("INVENTORY_MODE=reserve\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCommand(context.Background(), "serve")
	if code != 2 || !strings.Contains(stderr, `INVENTORY_MODE="reserve" is not allowed`) {
		t.Errorf("serve with a bad .env = %d, stderr: %s; want 2 and the .env's value rejected", code, stderr)
	}

	if err := os.WriteFile("other.env", []byte("nonsense\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCommand(context.Background(), "--env-file", "other.env", "serve")
	if code != 2 || !strings.Contains(stderr, "other.env:1: want NAME=value") {
		t.Errorf("--env-file other.env serve = %d, stderr: %s; want 2 naming other.env:1", code, stderr)
	}
	t.Setenv("CHECKOUTD_ENV_FILE", "missing.env")
	code, _, stderr = runCommand(context.Background(), "serve")
	if code != 2 || !strings.Contains(stderr, "missing.env") {
		t.Errorf("CHECKOUTD_ENV_FILE=missing.env serve = %d, stderr: %s; want 2 naming the file", code, stderr)
	}
	code, _, stderr = runCommand(context.Background(), "--env-file")
	if code != 2 || !strings.Contains(stderr, "--env-file needs a file") {
		t.Errorf("--env-file alone = %d, stderr: %s", code, stderr)
	}
}
