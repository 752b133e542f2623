package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

// runShops dispatches the shops subcommands.
func runShops(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("shops", "create|show|update <id> ...",
		"Manage shops.\n\n"+
			"commands:\n"+
			"  create <id> [--name name]      create a shop with its default location\n"+
			"  show <id>                      show a shop's settings and locations\n"+
			"  update <id> [--name name] [--public-availability=true|false]\n"+
			"                                 change a shop's settings")
	return a.dispatch(ctx, fs, args,
		subcommand{"create", runShopsCreate}, subcommand{"show", runShopsShow}, subcommand{"update", runShopsUpdate})
}

// runShopsCreate creates one shop.
func runShopsCreate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("shops create", "<id> [--name name]",
		"Create a shop and its default location. The id is 1-64 characters of\n"+
			"a-z, 0-9, _ and -, starting with a letter or digit. Without --name the\n"+
			"shop is named after its id.")
	name := fs.String("name", "", "the shop's display `name`")
	id, err := parseWithArg(fs, args, "shop id")
	if err != nil {
		return err
	}
	if _, err := onLedger(ctx, a, fs, "shops", func(ledger *inventory.Ledger) (*inventory.Shop, error) {
		return ledger.CreateShop(ctx, id, *name)
	}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "created shop %s with location default\n", id)
	return nil
}

// runShopsShow prints one shop.
func runShopsShow(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("shops show", "<id>", "Show a shop's settings and its locations, in allocation order.")
	id, err := parseWithArg(fs, args, "shop id")
	if err != nil {
		return err
	}
	shop, err := onLedger(ctx, a, fs, "shops", func(ledger *inventory.Ledger) (*inventory.Shop, error) {
		return ledger.GetShop(ctx, id)
	})
	if err != nil {
		return err
	}
	return printShop(a.stdout, shop)
}

// runShopsUpdate changes a shop's settings.
func runShopsUpdate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("shops update", "<id> [--name name] [--public-availability=true|false]",
		"Change a shop's settings and show the shop. --public-availability lets\n"+
			"anyone read the shop's availability on the public routes, without a token.")
	name := fs.String("name", "", "the shop's display `name`")
	public := fs.Bool("public-availability", false, "publish the shop's availability")
	id, err := parseWithArg(fs, args, "shop id")
	if err != nil {
		return err
	}
	// Only the flags given change anything: --public-availability=false
	// differs from leaving it out.
	var u inventory.ShopUpdate
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			u.Name = name
		case "public-availability":
			u.PublicAvailability = public
		}
	})
	shop, err := onLedger(ctx, a, fs, "shops", func(ledger *inventory.Ledger) (*inventory.Shop, error) {
		return ledger.UpdateShop(ctx, id, u)
	})
	if err != nil {
		return err
	}
	return printShop(a.stdout, shop)
}

// runLocations dispatches the locations subcommands.
func runLocations(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("locations", "add|list|update --shop <id> ...",
		"Manage a shop's locations. Holds take stock from locations in\n"+
			"ascending priority, then by id; the default location has priority 0.\n\n"+
			"commands:\n"+
			"  add --shop <id> <locationId> [--priority n] [--name name]\n"+
			"                                 add a location\n"+
			"  list --shop <id>               list the shop's locations, in allocation order\n"+
			"  update --shop <id> <locationId> [--priority n] [--name name]\n"+
			"                                 change a location")
	return a.dispatch(ctx, fs, args,
		subcommand{"add", runLocationsAdd}, subcommand{"list", runLocationsList}, subcommand{"update", runLocationsUpdate})
}

// runLocationsAdd adds one location to a shop.
func runLocationsAdd(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("locations add", "--shop <id> <locationId> [--priority n] [--name name]",
		"Add a location to a shop. Without --name it is named after its id.")
	shop := fs.String("shop", "", "the shop's `id`")
	priority := fs.Int("priority", 0, "allocation `priority`, lower first")
	name := fs.String("name", "", "the location's display `name`")
	id, err := parseWithArg(fs, args, "location id")
	if err != nil {
		return err
	}
	if _, err := onLedger(ctx, a, fs, "locations", func(ledger *inventory.Ledger) (*inventory.Location, error) {
		return ledger.AddLocation(ctx, *shop, id, *name, int64(*priority))
	}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "added location %s to shop %s with priority %d\n", id, *shop, *priority)
	return nil
}

// runLocationsList prints a shop's locations.
func runLocationsList(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("locations list", "--shop <id>", "List a shop's locations, in allocation order.")
	shop := fs.String("shop", "", "the shop's `id`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}
	locations, err := onLedger(ctx, a, fs, "locations", func(ledger *inventory.Ledger) ([]inventory.Location, error) {
		return ledger.ListLocations(ctx, *shop)
	})
	if err != nil {
		return err
	}
	return printLocations(a.stdout, locations)
}

// runLocationsUpdate changes one location.
func runLocationsUpdate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("locations update", "--shop <id> <locationId> [--priority n] [--name name]",
		"Change a location. A new priority orders the holds placed after it.")
	shop := fs.String("shop", "", "the shop's `id`")
	priority := fs.Int("priority", 0, "allocation `priority`, lower first")
	name := fs.String("name", "", "the location's display `name`")
	id, err := parseWithArg(fs, args, "location id")
	if err != nil {
		return err
	}
	var u inventory.LocationUpdate
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "priority":
			p := int64(*priority)
			u.Priority = &p
		case "name":
			u.Name = name
		}
	})
	loc, err := onLedger(ctx, a, fs, "locations", func(ledger *inventory.Ledger) (*inventory.Location, error) {
		return ledger.UpdateLocation(ctx, *shop, id, u)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "location %s of shop %s: name %q, priority %d\n", loc.ID, *shop, loc.Name, loc.Priority)
	return nil
}

// parseWithArg parses fs's flags from args around one positional argument
// (what names it in the usage error when it is missing) and returns it: the
// flag package stops at the first argument that is not a flag, so flags may
// stand on either side of it.
func parseWithArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		return "", usageFail(fs, "missing %s", what)
	}
	arg := fs.Arg(0)
	if err := parseFlags(fs, fs.Args()[1:]); err != nil {
		return "", err
	}
	return arg, noMoreArgs(fs)
}

// onLedger returns what fn returns when run with a ledger over a pool of
// its own, named for pg_stat_activity, with fn's error made the command's
// (see shopsFail).
func onLedger[T any](ctx context.Context, a *app, fs *flag.FlagSet, name string, fn func(*inventory.Ledger) (T, error)) (T, error) {
	var zero T
	pool, err := a.openPool(ctx, name, 2)
	if err != nil {
		return zero, err
	}
	defer pool.Close()
	v, err := fn(a.ledger(pool, nil))
	if err != nil {
		return zero, shopsFail(fs, err)
	}
	return v, nil
}

// shopsFail turns the ledger's answer into the command's: a bad argument is
// a usage error (exit 2); anything else, an unknown shop or a taken id
// among them, a failure (exit 1).
func shopsFail(fs *flag.FlagSet, err error) error {
	var invalid *checkoutd.ValidationError
	if errors.As(err, &invalid) {
		return usageFail(fs, "%v", invalid)
	}
	return err
}

// printShop writes a shop for people to read.
func printShop(w io.Writer, shop *inventory.Shop) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\n", shop.ID)
	fmt.Fprintf(tw, "name\t%s\n", oneLine(shop.Name))
	fmt.Fprintf(tw, "public availability\t%t\n", shop.PublicAvailability)
	fmt.Fprintf(tw, "created\t%s\n", shop.CreatedAt.UTC().Format(time.RFC3339))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return printLocations(w, shop.Locations)
}

// printLocations writes locations as a table, in the order given.
func printLocations(w io.Writer, locations []inventory.Location) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOCATION\tPRIORITY\tNAME")
	for _, l := range locations {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", l.ID, l.Priority, oneLine(l.Name))
	}
	return tw.Flush()
}

// oneLine keeps a name on its line of the table: names are free text.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
}
