package main

import (
	"context"

	"github.com/checkoutd/checkoutd/migrations"
)

// runMigrate applies pending migrations.
func runMigrate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("migrate", "",
		"Apply pending database migrations. Replicas may run it at the same\n"+
			"time: they take turns, and the later ones find nothing to do.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}

	// Migrate holds its lock on one connection and migrates on another, so
	// it needs two even where DATABASE_MAX_CONNS allows only one.
	pool, err := a.openPool(ctx, "migrate", max(a.cfg.DatabaseMaxConns, 2))
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrations.Migrate(ctx, pool, a.logger)
}
