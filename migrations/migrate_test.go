package migrations_test

import (
	"context"
	"io/fs"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/migrations"
)

func TestMigrateEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Two connections is the least Migrate accepts: the lock takes one.
	pool := openPool(t, testdb.EmptyURL(t), 2)

	rec := &recorder{}
	if err := migrations.Migrate(ctx, pool, slog.New(rec)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if got, want := rec.applied(), wantApplied(t); got != want {
		t.Errorf("applied %d migrations, want %d", got, want)
	}
	assertCurrent(t, pool, true)

	rec = &recorder{}
	if err := migrations.Migrate(ctx, pool, slog.New(rec)); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if got := rec.applied(); got != 0 {
		t.Errorf("second Migrate applied %d migrations, want 0", got)
	}

	// Both connections must come back as the pool made them: unlocked, and
	// with the pool's lock_timeout rather than the one the lock wait used.
	var conns []*pgxpool.Conn
	for range 2 {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}
		conns = append(conns, conn)
		var lockTimeout string
		if err := conn.QueryRow(ctx, "SHOW lock_timeout").Scan(&lockTimeout); err != nil {
			t.Fatalf("show lock_timeout: %v", err)
		}
		if lockTimeout != "3s" {
			t.Errorf("lock_timeout = %q, want 3s", lockTimeout)
		}
	}
	for _, conn := range conns {
		conn.Release()
	}
	var locks int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&locks); err != nil {
		t.Fatalf("count advisory locks: %v", err)
	}
	if locks != 0 {
		t.Errorf("%d advisory locks held after Migrate, want 0", locks)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.EmptyURL(t)

	// One pool each, like replicas starting at once.
	const replicas = 4
	recs := make([]*recorder, replicas)
	errs := make([]error, replicas)
	pools := make([]*pgxpool.Pool, replicas)
	for i := range replicas {
		pools[i] = openPool(t, url, 4)
		recs[i] = &recorder{}
	}
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			errs[i] = migrations.Migrate(ctx, pools[i], slog.New(recs[i]))
		})
	}
	wg.Wait()

	total, migrators := 0, 0
	for i := range replicas {
		if errs[i] != nil {
			t.Errorf("replica %d: Migrate: %v", i, errs[i])
		}
		if n := recs[i].applied(); n > 0 {
			total += n
			migrators++
		}
	}
	if want := wantApplied(t); total != want || migrators != 1 {
		t.Errorf("%d replicas applied %d migrations in total, want 1 replica applying %d", migrators, total, want)
	}

	var gooseRows, shopsTables int
	err := pools[0].QueryRow(ctx, `
		SELECT (SELECT count(*) FROM goose_db_version WHERE version_id > 0),
		       (SELECT count(*) FROM pg_tables WHERE tablename = 'shops')`,
	).Scan(&gooseRows, &shopsTables)
	if err != nil {
		t.Fatalf("inspect schema: %v", err)
	}
	if want := gooseFiles(t); gooseRows != want || shopsTables != 1 {
		t.Errorf("goose_db_version has %d rows and shops exists %d times, want %d and 1", gooseRows, shopsTables, want)
	}
	assertCurrent(t, pools[0], true)
}

func TestCurrentEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := openPool(t, testdb.EmptyURL(t), 2)

	assertCurrent(t, pool, false)

	// A readiness probe must not create goose's or River's tables.
	var tables int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
		t.Fatalf("count tables: %v", err)
	}
	if tables != 0 {
		t.Errorf("Current created %d tables, want 0", tables)
	}
}

func TestCurrentMissingVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	for _, tt := range []struct {
		name   string
		forget string
	}{
		{"goose", "DELETE FROM goose_db_version WHERE version_id = 1"},
		{"river", "DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := openPool(t, testdb.EmptyURL(t), 2)
			if err := migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if _, err := pool.Exec(ctx, tt.forget); err != nil {
				t.Fatalf("forget a migration: %v", err)
			}
			assertCurrent(t, pool, false)
		})
	}
}

func TestCurrentPackageDatabase(t *testing.T) {
	t.Parallel()
	assertCurrent(t, testdb.Pool(t), true)
}

func openPool(t *testing.T, url string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := database.Open(ctx, url, database.PoolConfig{MaxConns: maxConns, LockTimeout: 3 * time.Second})
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func assertCurrent(t *testing.T, pool *pgxpool.Pool, want bool) {
	t.Helper()
	got, err := migrations.Current(context.Background(), pool)
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	if got != want {
		t.Errorf("Current = %t, want %t", got, want)
	}
}

// wantApplied counts the migrations a fresh database needs.
func wantApplied(t *testing.T) int {
	t.Helper()
	migrator, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		t.Fatalf("river migrator: %v", err)
	}
	return gooseFiles(t) + len(migrator.AllVersions())
}

func gooseFiles(t *testing.T) int {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("goose migrations in FS: %v, %v", names, err)
	}
	return len(names)
}

// recorder is a slog.Handler that counts "applied migration" records.
type recorder struct {
	mu sync.Mutex
	n  int
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message == "applied migration" {
		r.mu.Lock()
		r.n++
		r.mu.Unlock()
	}
	return nil
}

func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }

func (r *recorder) WithGroup(string) slog.Handler { return r }

func (r *recorder) applied() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
