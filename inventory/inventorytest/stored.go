package inventorytest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/internal/database"
)

// StoredHold is a hold as stored, which is not always what GetHold reports:
// an open hold past its expiry stays open here until the reaper closes it.
type StoredHold struct {
	Status                   string
	CheckoutMode             *string
	CheckoutSessionID        *string
	CheckoutSessionExpiresAt *time.Time
	ExpiresAt                time.Time
	ReleaseReason            *string
}

// ReadHold reads a hold as stored.
func ReadHold(tb testing.TB, exec database.Executor, shopID, holdID string) StoredHold {
	tb.Helper()
	var h StoredHold
	err := exec.QueryRow(context.Background(), `
		SELECT status, checkout_mode, checkout_session_id, checkout_session_expires_at, expires_at, release_reason
		FROM holds WHERE shop_id = $1 AND id = $2`, shopID, holdID).
		Scan(&h.Status, &h.CheckoutMode, &h.CheckoutSessionID, &h.CheckoutSessionExpiresAt, &h.ExpiresAt, &h.ReleaseReason)
	if err != nil {
		tb.Fatalf("read hold %s: %v", holdID, err)
	}
	return h
}

// HoldIDs lists the shop's holds in the order they were made, only those
// with status unless status is "".
func HoldIDs(tb testing.TB, exec database.Executor, shopID, status string) []string {
	tb.Helper()
	rows, err := exec.Query(context.Background(),
		`SELECT id FROM holds WHERE shop_id = $1 AND ($2 = '' OR status = $2) ORDER BY created_at, id`, shopID, status)
	if err != nil {
		tb.Fatalf("list holds: %v", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatalf("list holds: %v", err)
	}
	return ids
}

// HoldStatuses maps each of the shop's holds to its stored status.
func HoldStatuses(tb testing.TB, exec database.Executor, shopID string) map[string]string {
	tb.Helper()
	return collectMap(tb, exec, `SELECT id, status FROM holds WHERE shop_id = $1`, shopID,
		func(row pgx.CollectableRow) (id, status string, err error) {
			err = row.Scan(&id, &status)
			return id, status, err
		})
}

// MakeDue makes open holds lapse a second ago, as if their time had run
// out: what a test would otherwise wait the TTL for. It fails the test
// unless every hold was found.
func MakeDue(tb testing.TB, exec database.Executor, shopID string, holdIDs ...string) {
	tb.Helper()
	tag, err := exec.Exec(context.Background(),
		`UPDATE holds SET expires_at = now() - interval '1 second' WHERE shop_id = $1 AND id = ANY($2)`, shopID, holdIDs)
	if err != nil {
		tb.Fatalf("make holds due: %v", err)
	}
	if int(tag.RowsAffected()) != len(holdIDs) {
		tb.Fatalf("make holds due: %d rows, want %d", tag.RowsAffected(), len(holdIDs))
	}
}

// MakeExpiring makes holds bound to a Stripe session lapse a second ago and
// marks them expiring, as the reaper does: they keep their stock until
// their session is closed. It fails the test unless every hold was bound
// and open.
func MakeExpiring(tb testing.TB, exec database.Executor, shopID string, holdIDs ...string) {
	tb.Helper()
	tag, err := exec.Exec(context.Background(), `
		UPDATE holds SET expires_at = now() - interval '1 second', status = 'expiring'
		WHERE shop_id = $1 AND id = ANY($2) AND status IN ('active', 'expiring') AND checkout_session_expires_at IS NOT NULL`,
		shopID, holdIDs)
	if err != nil {
		tb.Fatalf("make holds expiring: %v", err)
	}
	if int(tag.RowsAffected()) != len(holdIDs) {
		tb.Fatalf("make holds expiring: %d rows, want %d", tag.RowsAffected(), len(holdIDs))
	}
}

// MakeSessionsDue moves the session expiry of holds bound to a Stripe
// session back by more than inventory.SessionGrace, and their own expiry
// with it, as if Stripe had closed their pages long ago: an expiring hold's
// stock no longer counts, and the reaper releases it.
func MakeSessionsDue(tb testing.TB, exec database.Executor, shopID string, holdIDs ...string) {
	tb.Helper()
	tag, err := exec.Exec(context.Background(), `
		UPDATE holds SET checkout_session_expires_at = now() - interval '6 minutes', expires_at = now() - interval '7 minutes'
		WHERE shop_id = $1 AND id = ANY($2) AND checkout_session_expires_at IS NOT NULL`, shopID, holdIDs)
	if err != nil {
		tb.Fatalf("make sessions due: %v", err)
	}
	if int(tag.RowsAffected()) != len(holdIDs) {
		tb.Fatalf("make sessions due: %d rows, want %d", tag.RowsAffected(), len(holdIDs))
	}
}

// Sales maps each hold of the shop to its SALE movements: how many, and the
// units they took ("" for sales without a hold).
func Sales(tb testing.TB, exec database.Executor, shopID string) map[string][2]int64 {
	tb.Helper()
	return collectMap(tb, exec,
		`SELECT coalesce(hold_id, ''), count(*), -sum(quantity) FROM movements WHERE shop_id = $1 AND type = 'SALE' GROUP BY 1`,
		shopID, func(row pgx.CollectableRow) (string, [2]int64, error) {
			var id string
			var n, units int64
			err := row.Scan(&id, &n, &units)
			return id, [2]int64{n, units}, err
		})
}

// Releases maps each hold of the shop to how many RELEASE movements it has.
func Releases(tb testing.TB, exec database.Executor, shopID string) map[string]int {
	tb.Helper()
	return collectMap(tb, exec,
		`SELECT coalesce(hold_id, ''), count(*) FROM movements WHERE shop_id = $1 AND type = 'RELEASE' GROUP BY 1`,
		shopID, func(row pgx.CollectableRow) (string, int, error) {
			var id string
			var n int
			err := row.Scan(&id, &n)
			return id, n, err
		})
}

// collectMap runs a query of the shop and maps each row's key to its value,
// as scan reads them.
func collectMap[V any](tb testing.TB, exec database.Executor, query, shopID string, scan func(pgx.CollectableRow) (string, V, error)) map[string]V {
	tb.Helper()
	rows, err := exec.Query(context.Background(), query, shopID)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	out := map[string]V{}
	_, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
		key, v, err := scan(row)
		out[key] = v
		return struct{}{}, err
	})
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return out
}

// Snapshot is everything a change could touch in the shop's stock, as
// stored: stock levels, holds and movements, as one JSON text that tests
// compare to say "nothing changed".
func Snapshot(tb testing.TB, exec database.Executor, shopID string) string {
	tb.Helper()
	var s string
	err := exec.QueryRow(context.Background(), `
		SELECT json_build_object(
			'stock', (SELECT json_agg(x ORDER BY x.sku, x.variant_key, x.location_id) FROM
				(SELECT sku, variant_key, location_id, on_hand, reserved FROM stock_levels WHERE shop_id = $1) x),
			'holds', (SELECT json_agg(x ORDER BY x.id) FROM
				(SELECT id, status, expires_at, closed_at, release_reason FROM holds WHERE shop_id = $1) x),
			'movements', (SELECT json_agg(x ORDER BY x.id) FROM
				(SELECT id, type, quantity, hold_id FROM movements WHERE shop_id = $1) x)
		)::text`, shopID).Scan(&s)
	if err != nil {
		tb.Fatalf("snapshot of %s: %v", shopID, err)
	}
	return s
}
