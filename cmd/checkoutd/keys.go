package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/apikey"
)

// runKeys dispatches the keys subcommands.
func runKeys(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("keys", "create|list|revoke --shop <id> ...",
		"Manage shop API keys. A key may act only on its own shop.\n\n"+
			"commands:\n"+
			"  create --shop <id> [--name label]   issue a key; it is printed once\n"+
			"  list --shop <id>                     list the shop's keys (never their secrets)\n"+
			"  revoke --shop <id> <keyId>           stop a key from working, at once")
	keys := func(sub string) subcommand {
		return subcommand{sub, func(ctx context.Context, a *app, args []string) error {
			return runKeysCommand(ctx, a, sub, args)
		}}
	}
	return a.dispatch(ctx, fs, args, keys("create"), keys("list"), keys("revoke"))
}

// runKeysCommand runs keys create, list or revoke, which take the same flags.
func runKeysCommand(ctx context.Context, a *app, sub string, args []string) error {
	sfs := a.newFlagSet("keys "+sub, "--shop <id> ...", "See 'checkoutd keys -h'.")
	shop := sfs.String("shop", "", "the shop's `id`")
	name := sfs.String("name", "", "a `label` for the key (create)")
	// Flags may stand before or after the key id.
	if err := parseFlags(sfs, args); err != nil {
		return err
	}
	rest := sfs.Args()
	var keyID string
	if sub == "revoke" && len(rest) > 0 {
		keyID, rest = rest[0], rest[1:]
		if err := parseFlags(sfs, rest); err != nil {
			return err
		}
		rest = sfs.Args()
	}
	if len(rest) > 0 {
		return usageFail(sfs, "unexpected argument %q", rest[0])
	}
	if !checkoutd.ValidShopID(*shop) {
		return usageFail(sfs, "--shop must be a shop id")
	}
	if sub == "revoke" && keyID == "" {
		return usageFail(sfs, "missing key id")
	}

	pool, err := a.openPool(ctx, "keys", 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := apikey.NewStore(pool)

	switch sub {
	case "create":
		token, key, err := store.Create(ctx, *shop, *name)
		if errors.Is(err, checkoutd.ErrShopNotFound) {
			return fmt.Errorf("shop %q does not exist", *shop)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s\n", token)
		fmt.Fprintf(a.stderr, "created key %s for shop %s; this is the only time it is shown\n", key.ID, key.ShopID)
	case "list":
		keys, err := store.List(ctx, *shop)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if err := store.Revoke(ctx, *shop, keyID); errors.Is(err, apikey.ErrNotFound) {
			return fmt.Errorf("shop %s has no active key %q", *shop, keyID)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "revoked key %s of shop %s\n", keyID, *shop)
	}
	return nil
}
