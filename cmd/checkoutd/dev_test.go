package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/internal/config"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

func TestSeedDemoShopRunsOnce(t *testing.T) {
	ctx := context.Background()
	ledger := inventory.NewLedger(testdb.Pool(t), inventory.Config{Logger: slog.New(slog.DiscardHandler)})
	for range 2 {
		if err := seedDemoShop(ctx, ledger); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	info, err := ledger.StockInfo(ctx, devShop, "SHIRT-LINEN", "size:M")
	if err != nil {
		t.Fatalf("stock info: %v", err)
	}
	if info.OnHand != 28 || len(info.Locations) != 2 {
		t.Errorf("SHIRT-LINEN size:M after seeding twice: on hand %d at %d locations, want 28 at 2", info.OnHand, len(info.Locations))
	}
	report, err := ledger.CheckLedger(ctx, devShop)
	if err != nil || len(report.Discrepancies) > 0 {
		t.Errorf("ledger after seeding: %v %v", report, err)
	}
}

func TestDevDatabaseURLKeepsANamedDatabase(t *testing.T) {
	url := testdb.URL(t)
	got, err := devDatabaseURL(context.Background(), url, devDatabase)
	if err != nil || got != url {
		t.Errorf("devDatabaseURL(%q) = %q, %v; want it unchanged", url, got, err)
	}
}

// TestREADMEWalkthrough keeps the README's walk-through identical to what
// make dev prints with the default settings, which scripts/walkthrough runs.
func TestREADMEWalkthrough(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), walkthroughStart+"\n")
	block, _, ok2 := strings.Cut(after, walkthroughEnd+"\n")
	if !ok || !ok2 {
		t.Fatalf("README.md has no block from %q to %q", walkthroughStart, walkthroughEnd)
	}
	if want := readmeWalkthrough(); block != want {
		t.Errorf("README.md's walk-through differs from what make dev prints; replace it with:\n%s", want)
	}
}

func TestDevReportsBusyPortFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	runDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(runDir, "checkoutd.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// No DATABASE_URL: the port must be reported before the database is
	// looked at.
	setEnv(t, map[string]string{"HTTP_ADDR": ln.Addr().String()})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, args := range [][]string{{"dev", "--run-dir", runDir}, {"dev", "--preflight", "--run-dir", runDir}} {
		code, stdout, stderr := runCommand(context.Background(), args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "port "+port+" (HTTP_ADDR=") ||
			!strings.Contains(stderr, "make stop") || !strings.Contains(stderr, "checkoutd dev (pid "+strconv.Itoa(os.Getpid())) {
			t.Errorf("checkoutd %s with the port taken = %d\nstdout: %s\nstderr: %s\nwant 1, the port, the pid and make stop", strings.Join(args, " "), code, stdout, stderr)
		}
	}

	setEnv(t, map[string]string{"HTTP_ADDR": freeAddr(t)})
	if code, _, stderr := runCommand(context.Background(), "dev", "--preflight", "--run-dir", runDir); code != 0 {
		t.Errorf("dev --preflight with the port free = %d, stderr: %s", code, stderr)
	}
}

func TestDevEnvFileReadsBack(t *testing.T) {
	t.Parallel()
	r, err := newDevRun(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"DATABASE_URL":          "postgres://u:p%23$x@127.0.0.1:5432/checkoutd_dev?sslmode=disable",
		"STRIPE_WEBHOOK_SECRET": `whsec_a "b" #c \d`,
	}
	if err := r.writeEnv(vars); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(r.dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := config.ParseEnvFile(f, "env")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if vars[s.Name] != s.Value {
			t.Errorf("%s reads back as %q, want %q", s.Name, s.Value, vars[s.Name])
		}
	}
	if len(got) != len(vars) {
		t.Errorf("env file holds %d settings, want %d", len(got), len(vars))
	}
	r.close()
	if entries, _ := os.ReadDir(r.dir); len(entries) != 0 {
		t.Errorf("after close the run directory still holds %v", entries)
	}
}
