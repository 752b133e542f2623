package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/page"
	"github.com/checkoutd/checkoutd/inventory"
)

// runOversold dispatches the oversold subcommands.
func runOversold(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("oversold", "list --shop <id> [--limit n] [--cursor c]",
		"Oversold orders: sessions paid after their stock was gone. The\n"+
			"webhooks record them for people to resolve (refund, or find the stock).\n\n"+
			"commands:\n"+
			"  list --shop <id>   list the shop's oversold orders, newest first")
	return a.dispatch(ctx, fs, args, subcommand{"list", runOversoldList})
}

// runOversoldList prints a page of a shop's oversold orders as a table.
func runOversoldList(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("oversold list", "--shop <id> [--limit n] [--cursor c]",
		"List the shop's oversold orders, newest first. When more follow, the\n"+
			"command to show the next page is printed to stderr.")
	shop := fs.String("shop", "", "the shop's `id`")
	limit := fs.Int("limit", page.DefaultLimit, fmt.Sprintf("the number of orders to show, 1 to %d", page.MaxLimit))
	cursor := fs.String("cursor", "", "show the page after the one that printed this `cursor`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}
	if !checkoutd.ValidShopID(*shop) {
		return usageFail(fs, "--shop must be a shop id")
	}
	if *limit < 1 || *limit > page.MaxLimit {
		return usageFail(fs, "--limit must be from 1 to %d", page.MaxLimit)
	}

	pool, err := a.openPool(ctx, "oversold", 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	page, err := checkout.ListOversold(ctx, pool, *shop, *limit, *cursor)
	var invalid *checkoutd.ValidationError
	switch {
	case errors.As(err, &invalid) && len(invalid.Details) == 1 && invalid.Details[0].Field == "cursor":
		return usageFail(fs, "--cursor %q is not a cursor this command printed", *cursor)
	case errors.As(err, &invalid):
		return usageFail(fs, "%v", invalid)
	case errors.Is(err, checkoutd.ErrShopNotFound):
		return fmt.Errorf("shop %q does not exist", *shop)
	case err != nil:
		return err
	}

	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tID\tSESSION\tPAYMENT INTENT\tREFUND\tSHORTFALL")
	for _, o := range page.Items {
		pi := "-"
		if o.PaymentIntentID != nil {
			pi = *o.PaymentIntentID
		}
		refund := "no"
		if o.RefundRequested {
			refund = "requested"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.CreatedAt.UTC().Format(time.RFC3339), o.ID, o.StripeSessionID, pi, refund, shortfallSummary(o.Shortfall))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case page.NextCursor != nil:
		fmt.Fprintf(a.stderr, "more orders follow: checkoutd oversold list --shop %s --limit %d --cursor %s\n", *shop, *limit, *page.NextCursor)
	case len(page.Items) == 0 && *cursor == "":
		fmt.Fprintf(a.stderr, "shop %s has no oversold orders\n", *shop)
	}
	return nil
}

// shortfallSummary says in one line what each short line lacked:
// "SKU-1[size:M] 3 paid, 1 left; SKU-2 1 paid, 0 left".
func shortfallSummary(lines []inventory.Shortfall) string {
	if len(lines) == 0 {
		return "-"
	}
	parts := make([]string, len(lines))
	for i, l := range lines {
		name := l.SKU
		if l.VariantKey != "" {
			name += "[" + l.VariantKey + "]"
		}
		parts[i] = fmt.Sprintf("%s %d paid, %d left", name, l.Requested, l.Available)
	}
	return strings.Join(parts, "; ")
}
