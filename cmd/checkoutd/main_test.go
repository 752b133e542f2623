package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

// configVars are the variables config.Load reads.
var configVars = []string{
	"DATABASE_URL", "HTTP_ADDR", "INVENTORY_BACKEND", "INVENTORY_MODE",
	"INVENTORY_HOLD_TTL_SECONDS", "SKIP_INVENTORY_VALIDATION",
	"LOW_STOCK_DEFAULT_THRESHOLD", "LOG_LEVEL", "DATABASE_MAX_CONNS",
	"INVENTORY_LOCK_TIMEOUT_MS", "INVENTORY_AUTHORITY_TOKEN",
	"INVENTORY_GROUP_SIZE", "INVENTORY_GROUPS_IN_FLIGHT", "INVENTORY_GROUP_WINDOW", "INVENTORY_READ_GROUP_SIZE",
	"PPROF_ADDR",
	"STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "ASYNC_PAYMENT_HOLD_HOURS", "STRIPE_REFUND_OVERSOLD",
	"JOB_WORKERS", "REAPER_INTERVAL", "STOCK_NOTIFY",
	"LOW_STOCK_CHECK_INTERVAL", "LOW_STOCK_ALERT_INTERVAL", "SLACK_WEBHOOK_URL", "ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET",
	"ALERT_BUDGET_PER_SHOP", "ALERT_BUDGET_WINDOW",
}

// setEnv makes the environment hold exactly vars among configVars.
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, name := range configVars {
		t.Setenv(name, "") // restores the original value after the test
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
	for name, value := range vars {
		t.Setenv(name, value)
	}
}

// runCommand runs the command line args in-process and returns its exit code
// and output.
func runCommand(ctx context.Context, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{name: "no command", wantCode: 2, wantStderr: "usage: checkoutd <command>"},
		{name: "help", args: []string{"help"}, wantCode: 0, wantStdout: "  serve       serve the HTTP API"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantStderr: `checkoutd: unknown command "frobnicate"`},
		{
			name:       "bad config",
			env:        map[string]string{"INVENTORY_MODE": "reserve"},
			args:       []string{"serve"},
			wantCode:   2,
			wantStderr: `INVENTORY_MODE="reserve" is not allowed: use validate_only or reserve_ttl` + "\n",
		},
		{name: "serve without DATABASE_URL", args: []string{"serve"}, wantCode: 2, wantStderr: "DATABASE_URL is not set: "},
		{name: "migrate without DATABASE_URL", args: []string{"migrate"}, wantCode: 2, wantStderr: "DATABASE_URL is not set: "},
		{name: "ledger check without DATABASE_URL", args: []string{"ledger", "check"}, wantCode: 2, wantStderr: "DATABASE_URL is not set: "},
		{name: "shops create without DATABASE_URL", args: []string{"shops", "create", "acme"}, wantCode: 2, wantStderr: "DATABASE_URL is not set: "},
		{name: "serve help", args: []string{"serve", "-h"}, wantCode: 0, wantStderr: "usage: checkoutd serve"},
		{name: "serve extra argument", args: []string{"serve", "now"}, wantCode: 2, wantStderr: `checkoutd serve: unexpected argument "now"`},
		{name: "unknown flag", args: []string{"migrate", "--force"}, wantCode: 2, wantStderr: "flag provided but not defined: -force"},
		{name: "ledger without command", args: []string{"ledger"}, wantCode: 2, wantStderr: "checkoutd ledger: missing command"},
		{name: "ledger unknown command", args: []string{"ledger", "fix"}, wantCode: 2, wantStderr: `checkoutd ledger: unknown command "fix"`},
		{name: "ledger check help", args: []string{"ledger", "check", "-h"}, wantCode: 0, wantStderr: "-shop id"},
		{name: "shops without command", args: []string{"shops"}, wantCode: 2, wantStderr: "checkoutd shops: missing command"},
		{name: "shops create without id", args: []string{"shops", "create"}, wantCode: 2, wantStderr: "checkoutd shops create: missing shop id"},
		{name: "shops create two ids", args: []string{"shops", "create", "a", "b"}, wantCode: 2, wantStderr: `checkoutd shops create: unexpected argument "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			code, stdout, stderr := runCommand(context.Background(), tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantStdout) || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("checkoutd %s = %d\nstdout: %s\nstderr: %s\nwant %d, stdout containing %q, stderr containing %q",
					strings.Join(tt.args, " "), code, stdout, stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestServeNeedsMigrationsThenServes(t *testing.T) {
	dbURL := testdb.EmptyURL(t)
	addr := freeAddr(t)
	setEnv(t, map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": addr})

	code, _, stderr := runCommand(context.Background(), "serve")
	if code != 1 || !strings.Contains(stderr, "database schema is not up to date: run 'checkoutd migrate' first") {
		t.Fatalf("serve before migrate = %d, stderr: %s\nwant 1 and advice to migrate", code, stderr)
	}

	if code, _, stderr := runCommand(context.Background(), "migrate"); code != 0 {
		t.Fatalf("migrate = %d, stderr: %s", code, stderr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code   int
		stderr string
	}
	served := make(chan result, 1)
	go func() {
		code, _, stderr := runCommand(ctx, "serve")
		served <- result{code, stderr}
	}()

	ready := false
	for deadline := time.Now().Add(10 * time.Second); !ready && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			ready = resp.StatusCode == http.StatusOK
			resp.Body.Close()
		}
	}
	cancel()
	r := <-served
	if !ready {
		t.Errorf("serve never answered GET /readyz with 200; stderr: %s", r.stderr)
	}
	if r.code != 0 {
		t.Errorf("serve after cancel = %d, want 0; stderr: %s", r.code, r.stderr)
	}
}

func TestShopsCreateAndLedgerCheck(t *testing.T) {
	dbURL := testdb.URL(t)
	shop := testdb.ShopID(t)
	setEnv(t, map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()

	code, stdout, stderr := runCommand(ctx, "shops", "create", shop, "--name", "Test Shop")
	if code != 0 || stdout != "created shop "+shop+" with location default\n" {
		t.Fatalf("shops create = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, _, stderr = runCommand(ctx, "shops", "create", "--name", "Again", shop)
	if code != 1 || !strings.Contains(stderr, "shop already exists") {
		t.Errorf("shops create of an existing shop = %d, stderr: %s\nwant 1 and \"shop already exists\"", code, stderr)
	}
	code, _, stderr = runCommand(ctx, "shops", "create", "Not Valid")
	if code != 2 {
		t.Errorf("shops create with an invalid id = %d, stderr: %s\nwant 2", code, stderr)
	}

	code, stdout, stderr = runCommand(ctx, "ledger", "check", "--shop", shop)
	if code != 0 || stdout != "ledger clean: 0 stock rows checked in shop "+shop+"\n" {
		t.Errorf("ledger check = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}
