package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/checkoutd/checkoutd"
)

// runShops dispatches the shops subcommands.
func runShops(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("shops", "create <id> [--name name]",
		"Manage shops.\n\n"+
			"commands:\n"+
			"  create   create a shop with its default location")
	return a.dispatch(ctx, fs, args, subcommand{"create", runShopsCreate})
}

// runShopsCreate creates one shop.
func runShopsCreate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("shops create", "<id> [--name name]",
		"Create a shop and its default location. The id is 1-64 characters of\n"+
			"a-z, 0-9, _ and -, starting with a letter or digit.")
	name := fs.String("name", "", "the shop's display `name`")
	// The flag package stops at the first argument that is not a flag, so
	// parse again after the id to accept --name on either side of it.
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageFail(fs, "missing shop id")
	}
	id := fs.Arg(0)
	if err := parseFlags(fs, fs.Args()[1:]); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}

	pool, err := a.openPool(ctx, "shops", a.cfg.DatabaseMaxConns)
	if err != nil {
		return err
	}
	defer pool.Close()

	if err := a.ledger(pool, nil).CreateShop(ctx, id, *name); err != nil {
		var invalid *checkoutd.ValidationError
		if errors.As(err, &invalid) {
			return usageFail(fs, "%v", invalid)
		}
		return err
	}
	fmt.Fprintf(a.stdout, "created shop %s with location default\n", id)
	return nil
}
