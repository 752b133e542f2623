package main

import (
	"context"
	"fmt"
)

// runLedger dispatches the ledger subcommands.
func runLedger(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("ledger", "check [--shop id]",
		"Inspect the inventory ledger.\n\n"+
			"commands:\n"+
			"  check   report stock rows that disagree with their movements and holds")
	return a.dispatch(ctx, fs, args, subcommand{"check", runLedgerCheck})
}

// runLedgerCheck prints every discrepancy in the ledger and fails if there
// is any, so that it can gate a deploy or alert from a cron job.
func runLedgerCheck(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("ledger check", "[--shop id]",
		"Compare each stock row's on-hand and reserved quantities with the\n"+
			"movements and active holds they derive from. Prints each row that\n"+
			"disagrees and exits 1 if there is any.")
	shop := fs.String("shop", "", "check only the shop with this `id` (default all shops)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}

	pool, err := a.openPool(ctx, "ledger", a.cfg.DatabaseMaxConns)
	if err != nil {
		return err
	}
	defer pool.Close()

	report, err := a.ledger(pool, nil).CheckLedger(ctx, *shop)
	if err != nil {
		return err
	}
	scope := "all shops"
	if *shop != "" {
		scope = "shop " + *shop
	}
	for _, d := range report.Discrepancies {
		fmt.Fprintln(a.stdout, d.String())
	}
	if len(report.Discrepancies) == 0 {
		fmt.Fprintf(a.stdout, "ledger clean: %d stock %s checked in %s\n", report.RowsChecked, plural(report.RowsChecked, "row", "rows"), scope)
		return nil
	}
	n := int64(len(report.Discrepancies))
	fmt.Fprintf(a.stdout, "ledger check failed: %d %s in %d stock %s checked in %s\n",
		n, plural(n, "discrepancy", "discrepancies"), report.RowsChecked, plural(report.RowsChecked, "row", "rows"), scope)
	return errReported
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
