package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/checkoutd/checkoutd/internal/soak"
)

// runSoak runs the fault soak against this very binary and prints its
// report.
func runSoak(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("soak", "[--duration d] [--seed n] [flags]",
		"Run checkoutd (this binary, as 'checkoutd serve') against a private\n"+
			"PostgreSQL it starts, with a fake Stripe and signed webhooks, under\n"+
			"load from concurrent clients, while killing it (kill -9), crash-\n"+
			"restarting PostgreSQL and stopping it (SIGSTOP) at random. Then drain\n"+
			"and check the invariants, printing one line each and 'N passed,\n"+
			"M failed'. Exits 1 if any invariant fails. Needs PostgreSQL's server\n"+
			"binaries; as root, a user postgres to run them. See docs/reliability.md.")
	duration := fs.Duration("duration", 5*time.Minute, "how long the clients run and the faults strike")
	seed := fs.Uint64("seed", 0, "the random `seed` (default: from the clock; the report prints it)")
	clients := fs.Int("clients", 16, "how many clients run at once")
	reaper := fs.Duration("reaper-interval", 5*time.Second, "the service's REAPER_INTERVAL")
	holdTTL := fs.Duration("hold-ttl", time.Minute, "how long a checkout's hold lasts (INVENTORY_HOLD_TTL_SECONDS, at least 60s)")
	drain := fs.Duration("drain", 0, "how long the service runs without faults before the checks (default reaper interval + 35s)")
	// A live job times out after 30 s; a dead process's job is rescued once
	// it has run for the rescue bound (1 min) at River's next rescuer pass
	// (every 30 s): docs/jobs.md.
	jobBound := fs.Duration("job-bound", 95*time.Second, "how long a River job may stay running")
	noFaults := fs.Bool("no-faults", false, "run the load without faults, for a baseline")
	noAdjustable := fs.Bool("no-adjustable", false, "keep every checkout line at a fixed quantity, even if the service takes adjustable quantities")
	binary := fs.String("binary", "", "run this checkoutd `binary` under the soak instead of this one (an older build, to compare)")
	dir := fs.String("dir", "", "keep the database and logs in this `directory` (default a temporary one, removed if every invariant holds)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}
	if *clients < 1 {
		return usageFail(fs, "--clients must be from 1 to 256")
	}
	bin := *binary
	if bin == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the checkoutd binary: %w", err)
		}
		bin = self
	}
	cfg := soak.Config{
		Binary: bin, Duration: *duration, Seed: *seed, Clients: *clients,
		ReaperInterval: *reaper, HoldTTL: *holdTTL, Drain: *drain, JobBound: *jobBound,
		NoFaults: *noFaults, NoAdjustable: *noAdjustable, Dir: *dir, Progress: a.stderr, Out: a.stdout,
	}
	if err := cfg.Validate(); err != nil {
		return usageFail(fs, "%v", err)
	}
	res, err := soak.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if res.Failed() > 0 {
		return errReported
	}
	return nil
}
