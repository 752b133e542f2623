package alerts_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/alerts"
)

// An alert whose check rolls back was never raised, so nothing may say it
// was; the check that commits logs it once.
func TestCheckStockLogsOnlyAfterCommit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var logs bytes.Buffer
	a := alerts.New(f.ledger, alerts.Config{
		Channels: alerts.Channels{SlackWebhookURL: "http://127.0.0.1:1/services/T0/B0/x"},
		Budget:   alerts.Budget{PerShop: 10000, Window: time.Hour},
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	f.stock(t, "LOG-1", "", 2)
	f.reserve(t, "LOG-1", "", 1)

	errRollback := errors.New("roll back")
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		res, err := a.CheckStock(ctx, tx, 100)
		if err != nil {
			return err
		}
		if res.Alerts == 0 {
			t.Error("the check raised no alert")
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("check: %v", err)
	}
	if logs.Len() != 0 {
		t.Fatalf("a check that rolled back logged:\n%s", logs.String())
	}

	var res alerts.CheckResult
	err = pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		var err error
		res, err = a.CheckStock(ctx, tx, 100)
		return err
	})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if logs.Len() != 0 {
		t.Fatalf("logged before Committed:\n%s", logs.String())
	}
	res.Committed()
	if n := strings.Count(logs.String(), "low-stock alert raised"); n != 1 {
		t.Fatalf("%d lines say the alert was raised, want 1:\n%s", n, logs.String())
	}
}
