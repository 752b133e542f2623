package main

import (
	"context"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/loadtest"
)

// runLoad drives holds and commits against a running server and prints
// what it measured.
func runLoad(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("load", "--shop <id> [--url url] [--clients n] [--duration d] [--requests n] [--skus n] [--mode m] [--setup]",
		"Drive hold lifecycles over HTTP against a running checkoutd with\n"+
			"concurrent clients, then print the lifecycles per second, each request\n"+
			"kind's latency percentiles and the responses by status and error code.\n"+
			"A lifecycle holds 1 unit of one SKU (LOAD-1..LOAD-<skus>), then commits\n"+
			"or releases the hold as --mode says; in mode validate it asks once\n"+
			"whether 1 unit could be held, in mode stock it reads the SKU's stock.\n"+
			"The run stops after --duration or\n"+
			"--requests lifecycles, whichever comes first; the lifecycles under way\n"+
			"finish. Load goes only to a loopback --url unless --allow-remote.\n"+
			"Exits 1 if no lifecycle succeeded.")
	url := fs.String("url", loadtest.DefaultURL, "the server's base `url`")
	token := fs.String("token", "", "the bearer `token` (default $INVENTORY_AUTHORITY_TOKEN)")
	shop := fs.String("shop", "", "the `id` of the shop to hold stock in (required)")
	clients := fs.Int("clients", 32, "run `n` lifecycles at once")
	duration := fs.Duration("duration", 10*time.Second, "start no lifecycle after this `time`")
	requests := fs.Int64("requests", 0, "start no more than `n` lifecycles (0: no bound but --duration)")
	skus := fs.Int("skus", 1, "spread the holds over `n` SKUs; 1 is one hot SKU")
	mode := fs.String("mode", string(loadtest.ModeHoldCommit), "what a lifecycle does, `mode` hold-commit, hold-release, hold (holds left to expire), validate or stock")
	setup := fs.Bool("setup", false, "first set each SKU's stock to 1,000,000 with POST /adjustments")
	allowRemote := fs.Bool("allow-remote", false, "allow a --url whose host is not loopback")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}
	if *shop == "" {
		return usageFail(fs, "--shop is required")
	}
	if !checkoutd.ValidShopID(*shop) {
		return usageFail(fs, "--shop must be a shop id")
	}
	if *token == "" {
		*token = a.cfg.InventoryAuthorityToken
	}
	cfg := loadtest.Config{
		URL:         *url,
		AllowRemote: *allowRemote,
		Token:       *token,
		Shop:        *shop,
		Clients:     *clients,
		Duration:    *duration,
		Requests:    *requests,
		SKUs:        *skus,
		Mode:        loadtest.Mode(*mode),
		Setup:       *setup,
	}
	if err := cfg.Validate(); err != nil {
		return usageFail(fs, "%v", err)
	}

	report, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := report.Print(a.stdout); err != nil {
		return err
	}
	if report.OK == 0 && report.StopReason != loadtest.StopInterrupted {
		return errReported
	}
	return nil
}
