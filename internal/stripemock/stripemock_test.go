package stripemock

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Start runs stripe-mock until the test ends: it answers Stripe API
// requests, validates them, and is gone afterwards.
func TestStart(t *testing.T) {
	t.Parallel()
	var baseURL string
	t.Run("running", func(t *testing.T) {
		baseURL = Start(t)
		if !strings.HasPrefix(baseURL, "http://127.0.0.1:") {
			t.Errorf("base URL %q, want http://127.0.0.1:<port>", baseURL)
		}
		// A second instance gets ports of its own.
		if other := Start(t); other == baseURL {
			t.Errorf("two instances share %s", other)
		}

		status, body := post(t, baseURL, url.Values{
			"mode":                    {"payment"},
			"success_url":             {"https://shop.example/ok"},
			"line_items[0][price]":    {"price_123"},
			"line_items[0][quantity]": {"1"},
		})
		var sess struct{ ID, Object string }
		if err := json.Unmarshal([]byte(body), &sess); err != nil || status != http.StatusOK || !strings.HasPrefix(sess.ID, "cs_") || sess.Object != "checkout.session" {
			t.Errorf("create session: %d %s", status, body)
		}
		status, body = post(t, baseURL, url.Values{"mode": {"payment"}, "no_such_param": {"1"}})
		if status != http.StatusBadRequest || !strings.Contains(body, "invalid_request_error") {
			t.Errorf("invalid request: %d %s, want 400 invalid_request_error", status, body)
		}
	})
	if baseURL == "" {
		return
	}
	if resp, err := http.Get(baseURL + "/v1/checkout/sessions/cs_123"); err == nil {
		resp.Body.Close()
		t.Errorf("stripe-mock still answers at %s after its test ended", baseURL)
	}
}

func post(t *testing.T, baseURL string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, baseURL+"/v1/checkout/sessions", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_123")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestFind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	executable := func(p string) string {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	envBin := executable(filepath.Join(dir, "env", "stripe-mock"))
	onPath := executable(filepath.Join(dir, "path", "stripe-mock"))
	gopathBin := executable(filepath.Join(dir, "gopath2", "bin", "stripe-mock"))
	notExecutable := filepath.Join(dir, "plain")
	if err := os.WriteFile(notExecutable, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	found := func(p string) func(string) (string, error) {
		return func(string) (string, error) { return p, nil }
	}
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	gopath := func() []string { return []string{filepath.Join(dir, "gopath1"), filepath.Join(dir, "gopath2")} }
	noGopath := func() []string { return nil }

	for _, tt := range []struct {
		name     string
		getenv   func(string) string
		lookPath func(string) (string, error)
		gopath   func() []string
		want     string
		wantErr  string
	}{
		{"env first", env(map[string]string{EnvBinary: envBin}), found(onPath), gopath, envBin, ""},
		{"env not executable", env(map[string]string{EnvBinary: notExecutable}), found(onPath), gopath, "", "not an executable"},
		{"env missing", env(map[string]string{EnvBinary: filepath.Join(dir, "nope")}), found(onPath), gopath, "", "not an executable"},
		{"path", env(nil), found(onPath), gopath, onPath, ""},
		{"gopath bin", env(nil), notFound, gopath, gopathBin, ""},
		{"nowhere", env(nil), notFound, noGopath, "", "stripe-mock not found"},
	} {
		got, err := find(tt.getenv, tt.lookPath, tt.gopath)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: %q, %v; want an error containing %q", tt.name, got, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// recorder is a testing.TB that notes how the test would have ended.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = true
	r.msg = args[0].(string)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.failed = true
	r.msg = args[0].(string)
	runtime.Goexit()
}

// Without the binary the tests are skipped with advice, except on CI,
// where they fail.
func TestMissingBinary(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ci       string
		wantFail bool
	}{
		{"", false}, {"false", false}, {"0", false},
		{"true", true}, {"1", true}, {"yes", true},
	} {
		r := &recorder{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			missing(r, func(k string) string {
				if k == "CI" {
					return tt.ci
				}
				return ""
			}, errors.New("stripe-mock not found"))
		}()
		<-done
		if tt.wantFail && (!r.failed || r.skipped) || !tt.wantFail && (!r.skipped || r.failed) {
			t.Errorf("CI=%q: skipped %v, failed %v; want failed %v", tt.ci, r.skipped, r.failed, tt.wantFail)
		}
		if !strings.Contains(r.msg, "make test") {
			t.Errorf("CI=%q: message %q does not say that make test installs stripe-mock", tt.ci, r.msg)
		}
	}
}
