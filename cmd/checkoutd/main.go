// Command checkoutd runs the checkoutd service and the operator tasks around
// it. Each task is a subcommand; all of them read their settings from the
// environment, and from a .env file in the working directory when there is
// one (see .env.example), and log JSON to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd/internal/config"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory"
)

// command is one subcommand of checkoutd.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

// commands are listed in the order the usage text shows them.
var commands = []command{
	{"serve", "serve the HTTP API (and run the background jobs) until SIGINT or SIGTERM", runServe},
	{"work", "run the background jobs only", runWork},
	{"migrate", "bring the database schema up to date", runMigrate},
	{"ledger", "check the inventory ledger: ledger check [--shop id]", runLedger},
	{"shops", "manage shops: shops create|show|update <id>", runShops},
	{"locations", "manage locations: locations add|list|update --shop <id>", runLocations},
	{"keys", "manage shop API keys: keys create|list|revoke --shop <id>", runKeys},
	{"dev", "local development: migrate, stock a demo shop, stripe-mock, serve in reserve_ttl", runDev},
	{"load", "drive holds and commits over HTTP and report throughput and latency", runLoad},
	{"soak", "run this binary under load and faults, then check the invariants", runSoak},
	{"oversold", "list oversold orders: oversold list --shop <id> [--limit n]", runOversold},
	{"stripe", "send a signed test event: stripe send-event --type <type> --session <cs_id>", runStripe},
	{"healthcheck", "exit 0 if the server on HTTP_ADDR answers /healthz, else 1 (for containers)", runHealthcheck},
}

// app is what every subcommand runs with.
type app struct {
	cfg    config.Config
	logger *slog.Logger
	stdout io.Writer
	stderr io.Writer
}

var (
	// errUsage reports a command line the command cannot run with. The
	// problem and the command's usage have been printed; checkoutd exits 2.
	errUsage = errors.New("usage error")
	// errReported reports a failure the command has already printed, such
	// as ledger discrepancies; checkoutd exits 1 without logging it again.
	errReported = errors.New("failure reported")
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Once the first signal has started a graceful stop, restore the default
	// handling so that a second one kills the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the subcommand named by args[0] and returns the exit code: 0 for
// success, 1 for a failure, 2 for a bad command line or configuration.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	envFile, args, err := envFileArg(args)
	if err != nil {
		fmt.Fprintf(stderr, "checkoutd: %v\n\n", err)
		usage(stderr)
		return 2
	}
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == args[0] {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "checkoutd: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}

	if err := loadEnvFile(envFile); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	a := &app{
		cfg:    cfg,
		logger: slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel})),
		stdout: stdout,
		stderr: stderr,
	}

	err = cmd.run(ctx, a, args[1:])
	var cfgErr *config.Error
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &cfgErr):
		fmt.Fprintln(stderr, cfgErr)
		return 2
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errReported):
		return 1
	default:
		a.logger.ErrorContext(ctx, "checkoutd "+cmd.name+" failed", "error", err.Error())
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, "usage: checkoutd <command> [arguments]\n"+
		"       checkoutd --env-file <file> <command> [arguments]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nSettings come from environment variables, and from the file .env in the\n"+
		"working directory when there is one (or --env-file, or "+config.EnvFileVariable+");\n"+
		"the environment wins over the file. See .env.example.\n"+
		"Run 'checkoutd <command> -h' for a command's own usage.\n")
}

// envFileArg takes a leading --env-file flag off args and returns its value,
// empty when there is none.
func envFileArg(args []string) (file string, rest []string, err error) {
	if len(args) == 0 {
		return "", args, nil
	}
	flagName, value, hasValue := strings.Cut(strings.TrimPrefix(args[0], "-"), "=")
	if flagName != "-env-file" {
		return "", args, nil
	}
	if !hasValue {
		if len(args) < 2 {
			return "", nil, errors.New("--env-file needs a file")
		}
		value, args = args[1], args[1:]
	}
	if value == "" {
		return "", nil, errors.New("--env-file needs a file")
	}
	return value, args[1:], nil
}

// loadEnvFile loads file, else the file CHECKOUTD_ENV_FILE names, else .env
// if there is one. A file named on purpose must exist.
func loadEnvFile(file string) error {
	if file == "" {
		file = os.Getenv(config.EnvFileVariable)
	}
	if file != "" {
		return config.LoadEnvFile(file, true)
	}
	return config.LoadEnvFile(config.DefaultEnvFile, false)
}

// newFlagSet returns the flag set of a subcommand, whose usage text shows
// synopsis after the command's name, then about, then the flags if any.
func (a *app) newFlagSet(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("checkoutd "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: checkoutd %s %s\n\n%s\n", name, synopsis, about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(out, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args into fs. It returns flag.ErrHelp for -h, and
// errUsage for anything else wrong, which fs has already printed.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errUsage
}

// usageFail prints a problem with the command line and fs's usage, and
// returns errUsage.
func usageFail(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "%s: %s\n\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return errUsage
}

// subcommand is one command of a group, such as check in 'checkoutd ledger
// check'.
type subcommand struct {
	name string
	run  func(ctx context.Context, a *app, args []string) error
}

// dispatch parses the group's flags from args into fs, then runs the
// subcommand the first remaining argument names with the arguments after it.
func (a *app) dispatch(ctx context.Context, fs *flag.FlagSet, args []string, subs ...subcommand) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	name := fs.Arg(0)
	if name == "" {
		return usageFail(fs, "missing command")
	}
	for _, sub := range subs {
		if sub.name == name {
			return sub.run(ctx, a, fs.Args()[1:])
		}
	}
	return usageFail(fs, "unknown command %q", name)
}

// noMoreArgs fails with a usage error if fs was left with arguments it does
// not take.
func noMoreArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageFail(fs, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// openPool connects to DATABASE_URL, naming the connections after the
// subcommand so they can be told apart in pg_stat_activity.
func (a *app) openPool(ctx context.Context, name string, maxConns int32) (*pgxpool.Pool, error) {
	if err := a.cfg.RequireDatabaseURL(); err != nil {
		return nil, err
	}
	return database.Open(ctx, a.cfg.DatabaseURL, database.PoolConfig{
		MaxConns:        maxConns,
		LockTimeout:     a.cfg.LockTimeout(),
		ApplicationName: "checkoutd " + name,
		QuietStock:      !a.cfg.StockNotify,
	})
}

// ledger returns the inventory ledger over pool, set up as the configuration
// says. metrics is nil for the commands that export none.
func (a *app) ledger(pool *pgxpool.Pool, metrics *inventory.Metrics) *inventory.Ledger {
	return inventory.NewLedger(pool, inventory.Config{
		DefaultLowStockThreshold: a.cfg.LowStockDefaultThreshold,
		Logger:                   a.logger,
		Metrics:                  metrics,
		GroupSize:                a.cfg.GroupSize,
		GroupsInFlight:           a.cfg.GroupsInFlight,
		GroupWindow:              a.cfg.GroupWindow,
		ReadGroupSize:            a.cfg.ReadGroupSize,
		PurchaseLimitWindow:      a.cfg.PurchaseLimitWindow,
	})
}
