// Package database opens the PostgreSQL connection pool every part of the
// service shares, with the session settings the inventory ledger relies on.
package database

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolConfig tunes the pool. Zero values take the defaults noted per field.
type PoolConfig struct {
	// MaxConns caps open connections (default 16).
	MaxConns int32
	// LockTimeout bounds how long any statement waits for a row lock before
	// PostgreSQL gives up with lock_not_available, which the inventory package
	// turns into a retryable "busy" error (default 3s).
	LockTimeout time.Duration
	// ApplicationName shows up in pg_stat_activity (default "checkoutd").
	ApplicationName string
	// QuietStock stops the pool's sessions from logging their stock
	// changes for the live availability feed (STOCK_NOTIFY=0).
	QuietStock bool
}

// Open connects to databaseURL and checks that the server answers.
func Open(ctx context.Context, databaseURL string, cfg PoolConfig) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 16
	}
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = 3 * time.Second
	}
	if cfg.ApplicationName == "" {
		cfg.ApplicationName = "checkoutd"
	}
	pcfg.MaxConns = cfg.MaxConns
	rp := pcfg.ConnConfig.RuntimeParams
	rp["lock_timeout"] = strconv.FormatInt(cfg.LockTimeout.Milliseconds(), 10)
	rp["application_name"] = cfg.ApplicationName
	rp["timezone"] = "UTC"
	if cfg.QuietStock {
		rp["checkoutd.stock_notify"] = "off"
	}
	// Every query the service runs is a keyed lookup whose best plan does not
	// depend on the parameter values, and re-planning the large reserve and
	// commit statements on each execution costs more than running them. A
	// cached plan is made from the statistics of its day, though: ANALYZE
	// (autoanalyze, as tables grow) invalidates it, and connections are
	// recycled every 15 minutes so no plan outlives a change of scale by long.
	rp["plan_cache_mode"] = "force_generic_plan"
	pcfg.MaxConnLifetime = 15 * time.Minute
	pcfg.MaxConnLifetimeJitter = time.Minute

	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return pool, nil
}
