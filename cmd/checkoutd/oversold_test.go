package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

// insertOversoldOrder records an oversold order by SQL, with its checkout.
func insertOversoldOrder(t *testing.T, shop, id string, createdAt time.Time, paymentIntent *string, shortfall string) {
	t.Helper()
	ctx := context.Background()
	pool := testdb.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO checkouts (shop_id, id, mode, inventory_mode, request_hash, lines, stripe_session_id, status)
		VALUES ($1, $2, 'sale', 'validate_only', '\x00', '[{"sku":"SKU-1","variantKey":"","quantity":2}]', $3, 'oversold')`,
		shop, "chk_"+id, "cs_test_"+id)
	if err != nil {
		t.Fatalf("insert checkout: %v", err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO oversold_orders (shop_id, id, checkout_id, stripe_session_id, payment_intent_id, event_id, lines, shortfall, refund_requested, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, '[{"sku":"SKU-1","variantKey":"","quantity":2}]', $7, $8, $9)`,
		shop, id, "chk_"+id, "cs_test_"+id, paymentIntent, "evt_"+id, shortfall, paymentIntent != nil, createdAt)
	if err != nil {
		t.Fatalf("insert oversold order: %v", err)
	}
}

func TestOversoldList(t *testing.T) {
	dbURL := testdb.URL(t)
	shop := testdb.ShopID(t)
	setEnv(t, map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	if code, _, stderr := runCommand(ctx, "shops", "create", shop); code != 0 {
		t.Fatalf("shops create = %d: %s", code, stderr)
	}

	code, stdout, stderr := runCommand(ctx, "oversold", "list", "--shop", shop)
	if code != 0 || strings.TrimSpace(stdout) != "CREATED  ID  SESSION  PAYMENT INTENT  REFUND  SHORTFALL" || !strings.Contains(stderr, "has no oversold orders") {
		t.Errorf("oversold list of a shop with none = %d\nstdout: %q\nstderr: %s", code, stdout, stderr)
	}

	base := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	pi := "pi_3ABC"
	insertOversoldOrder(t, shop, "ovs_old", base, nil, `[{"sku":"SKU-1","variantKey":"","requested":2,"available":0}]`)
	insertOversoldOrder(t, shop, "ovs_mid", base.Add(time.Hour), nil, `[{"sku":"SKU-1","variantKey":"","requested":2,"available":1}]`)
	insertOversoldOrder(t, shop, "ovs_new", base.Add(2*time.Hour), &pi,
		`[{"sku":"SKU-1","variantKey":"size:M","requested":3,"available":1},{"sku":"SKU-2","variantKey":"","requested":1,"available":0}]`)

	code, stdout, stderr = runCommand(ctx, "oversold", "list", "--limit", "2", "--shop", shop)
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("oversold list --limit 2 = %d\nstdout: %s\nstderr: %s\nwant a header and two rows", code, stdout, stderr)
	}
	wantRows := []*regexp.Regexp{
		regexp.MustCompile(`^CREATED +ID +SESSION +PAYMENT INTENT +REFUND +SHORTFALL$`),
		regexp.MustCompile(`^2026-05-06T09:08:09Z +ovs_new +cs_test_ovs_new +pi_3ABC +requested +SKU-1\[size:M\] 3 paid, 1 left; SKU-2 1 paid, 0 left$`),
		regexp.MustCompile(`^2026-05-06T08:08:09Z +ovs_mid +cs_test_ovs_mid +- +no +SKU-1 2 paid, 1 left$`),
	}
	for i, re := range wantRows {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q, want it to match %s", i, lines[i], re)
		}
	}
	next := regexp.MustCompile(`more orders follow: checkoutd oversold list --shop \S+ --limit 2 --cursor (\S+)`).FindStringSubmatch(stderr)
	if next == nil {
		t.Fatalf("stderr names no next page: %s", stderr)
	}

	code, stdout, stderr = runCommand(ctx, "oversold", "list", "--shop", shop, "--limit", "2", "--cursor", next[1])
	lines = strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "ovs_old") || strings.Contains(stderr, "more orders follow") {
		t.Errorf("second page = %d\nstdout: %s\nstderr: %s\nwant ovs_old alone", code, stdout, stderr)
	}

	if code, _, stderr := runCommand(ctx, "oversold", "list", "--shop", testdb.ShopID(t)); code != 1 || !strings.Contains(stderr, "does not exist") {
		t.Errorf("oversold list of an unknown shop = %d, stderr: %s", code, stderr)
	}
	for _, tt := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"oversold"}, "checkoutd oversold: missing command"},
		{[]string{"oversold", "show"}, `checkoutd oversold: unknown command "show"`},
		{[]string{"oversold", "list"}, "--shop must be a shop id"},
		{[]string{"oversold", "list", "--shop", "Bad Shop"}, "--shop must be a shop id"},
		{[]string{"oversold", "list", "--shop", shop, "--limit", "0"}, "--limit must be from 1 to 500"},
		{[]string{"oversold", "list", "--shop", shop, "--limit", "501"}, "--limit must be from 1 to 500"},
		{[]string{"oversold", "list", "--shop", shop, "--cursor", "nope"}, `--cursor "nope" is not a cursor this command printed`},
		{[]string{"oversold", "list", "--shop", shop, "extra"}, `unexpected argument "extra"`},
	} {
		if code, _, stderr := runCommand(ctx, tt.args...); code != 2 || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("checkoutd %s = %d, stderr: %s\nwant 2 and %q", strings.Join(tt.args, " "), code, stderr, tt.stderr)
		}
	}
}
