package apikey_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

func newShop(t *testing.T) (*apikey.Store, string) {
	t.Helper()
	pool := testdb.Pool(t)
	shop := testdb.ShopID(t)
	if _, err := inventory.NewLedger(pool, inventory.Config{}).CreateShop(context.Background(), shop, ""); err != nil {
		t.Fatalf("create shop: %v", err)
	}
	return apikey.NewStore(pool), shop
}

func TestCreateVerifyRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, shop := newShop(t)

	token, key, err := store.Create(ctx, shop, "edge worker")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !strings.HasPrefix(token, "ckd_"+shop+".") || key.ShopID != shop || key.Name != "edge worker" {
		t.Fatalf("create returned token %q, key %+v", token, key)
	}
	got, err := store.Verify(ctx, token)
	if err != nil || got != shop {
		t.Fatalf("verify = %q, %v; want %q", got, err, shop)
	}

	keys, err := store.List(ctx, shop)
	if err != nil || len(keys) != 1 || keys[0].ID != key.ID || keys[0].RevokedAt != nil {
		t.Fatalf("list = %+v, %v", keys, err)
	}
	if err := store.Revoke(ctx, shop, key.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := store.Verify(ctx, token); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("verify after revoke = %v, want ErrInvalid", err)
	}
	if err := store.Revoke(ctx, shop, key.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("second revoke = %v, want ErrNotFound", err)
	}
	keys, _ = store.List(ctx, shop)
	if len(keys) != 1 || keys[0].RevokedAt == nil {
		t.Errorf("list after revoke = %+v, want the key with a revocation time", keys)
	}
}

func TestVerifyRefusesForgeries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, shop := newShop(t)
	token, key, err := store.Create(ctx, shop, "")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	_, other := newShop(t)
	secret := token[strings.LastIndex(token, ".")+1:]
	for name, forged := range map[string]string{
		"empty":          "",
		"no prefix":      strings.TrimPrefix(token, "ckd_"),
		"wrong secret":   token[:len(token)-2] + "xx",
		"other shop":     "ckd_" + other + "." + key.ID + "." + secret,
		"unknown key id": "ckd_" + shop + ".000000000000." + secret,
		"too few parts":  "ckd_" + shop + "." + secret,
		"too many parts": token + ".x",
		// Bytes PostgreSQL cannot even compare: refused, not a database error.
		"invalid UTF-8 shop": "ckd_\xff.abc.def",
		"invalid UTF-8 key":  "ckd_" + shop + ".\xc3\x28." + secret,
		"NUL in the secret":  token + "\x00",
		"too long":           token + strings.Repeat("x", 300),
	} {
		if got, err := store.Verify(ctx, forged); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("%s: verify = %q, %v; want ErrInvalid", name, got, err)
		}
	}
}

func TestCreateForUnknownShop(t *testing.T) {
	t.Parallel()
	store := apikey.NewStore(testdb.Pool(t))
	if _, _, err := store.Create(context.Background(), testdb.ShopID(t), ""); !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("create = %v, want ErrShopNotFound", err)
	}
}

func TestMatchesServiceToken(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		token, service string
		want           bool
	}{
		{"s3cret", "s3cret", true},
		{"s3cret", "s3cre", false},
		{"", "", false},
		{"anything", "", false},
	} {
		if got := apikey.MatchesServiceToken(tt.token, tt.service); got != tt.want {
			t.Errorf("MatchesServiceToken(%q, %q) = %v, want %v", tt.token, tt.service, got, tt.want)
		}
	}
}
