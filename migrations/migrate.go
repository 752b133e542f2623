// Package migrations brings a database's schema up to date: the service's own
// tables, versioned by goose, and River's job queue tables, versioned by River.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/checkoutd/checkoutd/internal/database"
)

//go:embed sql/*.sql
var embedded embed.FS

// FS holds the goose SQL migrations at its root, as goose expects them.
var FS = mustSub(embedded, "sql")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		// Only reachable with an invalid literal path above.
		panic(err)
	}
	return sub
}

// lockKey is the session advisory lock key that serializes Migrate calls on
// a database, ASCII "ckd_migr". pg_locks shows it as classid 1667982431,
// objid 1835624306.
const lockKey int64 = 0x636b645f6d696772

// Migrate applies pending goose migrations from FS, then pending River
// migrations, and logs each one applied plus a summary to logger, which must
// not be nil.
//
// It holds a PostgreSQL session advisory lock (lockKey) throughout, so every
// replica may call it at start-up: the first applies what is pending, the
// others wait for it and then find nothing to do. The lock lives on a
// connection of its own while the migrations run on others, so pool must
// allow at least two connections.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	if pool.Config().MaxConns < 2 {
		return errors.New("migrate: pool must allow at least 2 connections: one holds the migration lock")
	}

	start := time.Now()
	unlock, err := lock(ctx, pool, logger)
	if err != nil {
		return err
	}
	defer unlock()
	waited := time.Since(start)

	gooseApplied, err := migrateGoose(ctx, pool, logger)
	if err != nil {
		return err
	}
	riverApplied, err := migrateRiver(ctx, pool, logger)
	if err != nil {
		return err
	}

	logger.InfoContext(ctx, "database migrated",
		slog.Int("goose_applied", gooseApplied),
		slog.Int("river_applied", riverApplied),
		slog.Duration("lock_wait", waited),
		slog.Duration("duration", time.Since(start)),
	)
	return nil
}

// lock acquires the migration lock on a dedicated connection and returns the
// function that releases it.
func lock(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (func(), error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: acquire lock connection: %w", err)
	}

	// The pool's lock_timeout (database.PoolConfig.LockTimeout) applies to
	// advisory locks too and would abort the wait for another replica's
	// migrations after a few seconds. Once the lock is held, RESET puts the
	// pool's value back, so the connection returns to the pool as it came.
	err = func() error {
		if _, err := conn.Exec(ctx, "SET lock_timeout = 0"); err != nil {
			return fmt.Errorf("migrate: disable lock_timeout: %w", err)
		}
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
			return fmt.Errorf("migrate: take advisory lock %d: %w", lockKey, err)
		}
		if _, err := conn.Exec(ctx, "RESET lock_timeout"); err != nil {
			return fmt.Errorf("migrate: reset lock_timeout: %w", err)
		}
		return nil
	}()
	if err != nil {
		// Closing the session drops both the setting and any lock taken.
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
		return nil, err
	}

	return func() {
		// Unlock even if ctx is done: otherwise the connection would go back
		// to the pool still holding the lock.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", lockKey); err != nil {
			logger.WarnContext(ctx, "migrate: release advisory lock failed; closing its connection instead",
				slog.String("error", err.Error()))
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}, nil
}

func migrateGoose(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (int, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()

	// No goose locker: the caller's advisory lock already serializes runs,
	// and a second lock held on another connection would only add a way to
	// deadlock. All migrations are SQL files, so goose's process-wide
	// registry of Go migrations is kept out.
	provider, err := goose.NewProvider(goose.DialectPostgres, db, FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return 0, fmt.Errorf("migrate: goose provider: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: goose up: %w", err)
	}
	for _, r := range results {
		logger.InfoContext(ctx, "applied migration",
			slog.String("system", "goose"),
			slog.Int64("version", r.Source.Version),
			slog.String("file", r.Source.Path),
			slog.Duration("duration", r.Duration),
		)
	}
	return len(results), nil
}

func migrateRiver(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (int, error) {
	// River's own log lines would repeat the ones below.
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 0, fmt.Errorf("migrate: river migrator: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("migrate: river up: %w", err)
	}
	for _, v := range res.Versions {
		logger.InfoContext(ctx, "applied migration",
			slog.String("system", "river"),
			slog.Int("version", v.Version),
			slog.String("name", v.Name),
			slog.Duration("duration", v.Duration),
		)
	}
	return len(res.Versions), nil
}

// wantVersions is every migration version Current expects to find recorded:
// goose's from FS and River's from the River release linked in.
var wantVersions = sync.OnceValues(func() (versions, error) {
	var want versions
	names, err := fs.Glob(FS, "*.sql")
	if err != nil {
		return want, fmt.Errorf("list goose migrations: %w", err)
	}
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return want, fmt.Errorf("goose migration %s: %w", name, err)
		}
		want.goose = append(want.goose, v)
	}
	// The migrator only reads River's embedded migrations here, so it needs
	// no pool.
	migrator, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return want, fmt.Errorf("river migrator: %w", err)
	}
	for _, m := range migrator.AllVersions() {
		want.river = append(want.river, int64(m.Version))
	}
	return want, nil
})

type versions struct {
	goose []int64
	river []int64
}

// Current reports whether every goose migration in FS and every River
// migration is recorded as applied. It costs one query, so it suits
// readiness probes, and unlike goose's and River's own status calls it never
// creates bookkeeping tables. Versions recorded beyond the known ones, as
// during a rolling deploy, still count as current.
func Current(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	want, err := wantVersions()
	if err != nil {
		return false, fmt.Errorf("migrations current: %w", err)
	}
	var current bool
	err = pool.QueryRow(ctx, `
		SELECT
			(SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id = ANY($1::bigint[])) = cardinality($1::bigint[])
			AND (SELECT count(DISTINCT version) FROM river_migration WHERE line = 'main' AND version = ANY($2::bigint[])) = cardinality($2::bigint[])`,
		want.goose, want.river,
	).Scan(&current)
	if err != nil {
		// A missing table or column means that system has not migrated this
		// far, which is an answer rather than a failure.
		if database.IsUndefinedTableOrColumn(err) {
			return false, nil
		}
		return false, fmt.Errorf("migrations current: %w", err)
	}
	return current, nil
}
