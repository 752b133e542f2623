package main

import (
	"context"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/testdb"
)

func TestKeysCreateListRevoke(t *testing.T) {
	dbURL := testdb.URL(t)
	shop := testdb.ShopID(t)
	setEnv(t, map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	if code, _, stderr := runCommand(ctx, "shops", "create", shop); code != 0 {
		t.Fatalf("shops create = %d: %s", code, stderr)
	}

	code, stdout, stderr := runCommand(ctx, "keys", "create", "--shop", shop, "--name", "edge")
	token := strings.TrimSpace(stdout)
	if code != 0 || !strings.HasPrefix(token, "ckd_"+shop+".") || !strings.Contains(stderr, "only time it is shown") {
		t.Fatalf("keys create = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if got, err := apikey.NewStore(testdb.Pool(t)).Verify(ctx, token); err != nil || got != shop {
		t.Fatalf("the printed key does not verify: %q, %v", got, err)
	}
	keyID := strings.Split(token, ".")[1]

	code, stdout, _ = runCommand(ctx, "keys", "list", "--shop", shop)
	if code != 0 || !strings.Contains(stdout, keyID) || !strings.Contains(stdout, "edge") || strings.Contains(stdout, token) {
		t.Errorf("keys list = %d\n%s\nwant the key's id and name, never the key", code, stdout)
	}

	if code, stdout, stderr = runCommand(ctx, "keys", "revoke", keyID, "--shop", shop); code != 0 {
		t.Fatalf("keys revoke = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if _, err := apikey.NewStore(testdb.Pool(t)).Verify(ctx, token); err == nil {
		t.Error("a revoked key still verifies")
	}
	if code, _, stderr = runCommand(ctx, "keys", "revoke", "--shop", shop, keyID); code != 1 || !strings.Contains(stderr, "no active key") {
		t.Errorf("second revoke = %d, stderr: %s", code, stderr)
	}
	if code, _, stderr = runCommand(ctx, "keys", "create", "--shop", testdb.ShopID(t)); code != 1 || !strings.Contains(stderr, "does not exist") {
		t.Errorf("keys create for an unknown shop = %d, stderr: %s", code, stderr)
	}
	for _, args := range [][]string{{"keys"}, {"keys", "rotate", "--shop", shop}, {"keys", "create"}, {"keys", "revoke", "--shop", shop}} {
		if code, _, _ := runCommand(ctx, args...); code != 2 {
			t.Errorf("checkoutd %s = %d, want 2", strings.Join(args, " "), code)
		}
	}
}
