package aftercommit_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/internal/aftercommit"
)

// Records wait for Flush, keep their attributes and groups, and go out
// once, in order; a queue held in another (a savepoint in a transaction)
// passes them on to it.
func TestLoggerHoldsRecordsUntilFlush(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var tx, savepoint aftercommit.Queue
	txLog := aftercommit.Logger(log, &tx).With("shop_id", "shop_1")
	spLog := aftercommit.Logger(txLog, &savepoint).WithGroup("hold")

	txLog.Info("first")
	spLog.Info("second", "id", "hold_1")
	spLog.Debug("below the level")
	if out.Len() != 0 {
		t.Fatalf("logged before the commit: %s", out.String())
	}
	savepoint.Flush()
	if out.Len() != 0 {
		t.Fatalf("a savepoint's release logged before the transaction's commit: %s", out.String())
	}
	tx.Flush()
	tx.Flush()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "msg=first shop_id=shop_1") ||
		!strings.Contains(lines[1], "msg=second shop_id=shop_1 hold.id=hold_1") {
		t.Errorf("after the commit:\n%s\nwant first, then second with its attributes, once each", out.String())
	}
}
