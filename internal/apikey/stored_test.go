package apikey_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

// TestKeysStoredHashed: the database holds a SHA-256 of a key's secret and
// nothing from which the key could be used, so a copy of it grants nothing.
func TestKeysStoredHashed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, shop := newShop(t)
	token, key, err := store.Create(ctx, shop, "storefront")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	secret := token[strings.LastIndex(token, ".")+1:]

	var row string
	var hash []byte
	if err := testdb.Pool(t).QueryRow(ctx,
		"SELECT api_keys::text, secret_hash FROM api_keys WHERE shop_id = $1 AND id = $2", shop, key.ID).Scan(&row, &hash); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256([]byte(secret)); !bytes.Equal(hash, want[:]) {
		t.Errorf("secret_hash is not the SHA-256 of the secret")
	}
	if strings.Contains(row, secret) || strings.Contains(row, token) {
		t.Errorf("the stored row contains the secret: %s", row)
	}
}
