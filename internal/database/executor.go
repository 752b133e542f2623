package database

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Executor runs statements: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx. Domain
// packages take one where a caller may pass either the pool or its own
// transaction, so that no package's generated queries appear in another's
// signature.
type Executor interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
