package database_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
)

var appSeq atomic.Int64

// setup opens a pool of the service's (database.Open) on a database of the
// test's own with one table, t(id int primary key, v text), holding the
// row id 1, and a second pool for the test to act as "another session".
func setup(t *testing.T, cfg database.PoolConfig) (pool, other *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	url := testdb.EmptyURL(t)
	cfg.ApplicationName = fmt.Sprintf("checkoutd-test-errors-%d", appSeq.Add(1))
	pool, err := database.Open(ctx, url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	other, err = pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	if _, err := other.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL); INSERT INTO t VALUES (1, 'a')"); err != nil {
		t.Fatal(err)
	}
	return pool, other
}

// terminate ends the server process behind tx's connection, as a crash, a
// failover or an operator would, and waits until it is gone.
func terminate(t *testing.T, other *pgxpool.Pool, tx pgx.Tx) {
	t.Helper()
	ctx := context.Background()
	pid := tx.Conn().PgConn().PID()
	var ok bool
	if err := other.QueryRow(ctx, "SELECT pg_terminate_backend($1, 5000)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate backend %d: %v, %v", pid, ok, err)
	}
}

type classified struct {
	unavailable, contended, badText bool
}

func classify(err error) classified {
	return classified{database.IsUnavailable(err), database.IsContended(err), database.IsBadText(err)}
}

func assertClass(t *testing.T, what string, err error, want classified) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	if got := classify(err); got != want {
		t.Errorf("%s: %v (%T): classified %+v, want %+v", what, err, err, got, want)
	}
	wrapped := database.WrapError("do something", err)
	if errors.Is(wrapped, database.ErrUnavailable) != want.unavailable || errors.Is(wrapped, database.ErrContended) != want.contended {
		t.Errorf("%s: WrapError marks %v", what, wrapped)
	}
}

var (
	unavailable = classified{unavailable: true}
	contended   = classified{contended: true}
	badText     = classified{badText: true}
	neither     = classified{}
)

// The server process of a transaction is terminated between statements:
// the next statement, the ones after it ("conn closed": pgx has closed the
// connection) and the commit all fail as the database being unavailable.
func TestTerminatedMidTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, other := setup(t, database.PoolConfig{MaxConns: 2})

	for name, next := range map[string]func(tx pgx.Tx) error{
		"exec": func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE t SET v = 'b' WHERE id = 1")
			return err
		},
		"query row": func(tx pgx.Tx) error {
			var v string
			return tx.QueryRow(ctx, "SELECT v FROM t WHERE id = $1", 1).Scan(&v)
		},
		"query": func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, "SELECT v FROM t")
			if err != nil {
				return err
			}
			_, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		},
		"commit": func(tx pgx.Tx) error { return tx.Commit(ctx) },
		"savepoint": func(tx pgx.Tx) error {
			return pgx.BeginFunc(ctx, tx, func(pgx.Tx) error { return nil })
		},
	} {
		t.Run(name, func(t *testing.T) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			if _, err := tx.Exec(ctx, "UPDATE t SET v = 'c' WHERE id = 1"); err != nil {
				t.Fatal(err)
			}
			terminate(t, other, tx)
			first := next(tx)
			t.Logf("first error: %v", first)
			assertClass(t, "the first statement after the termination", first, unavailable)
			if name == "commit" {
				return // the transaction is over
			}
			_, again := tx.Exec(ctx, "SELECT 1")
			if !errors.Is(again, pgconn.ErrConnClosed) {
				t.Errorf("the next statement: %v, want pgx's conn closed", again)
			}
			assertClass(t, "a statement on the closed connection", again, unavailable)
		})
	}
}

// A transaction of the service's whose connection is terminated while a
// statement waits for a lock fails unavailable.
func TestTerminatedWhileWaiting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, other := setup(t, database.PoolConfig{MaxConns: 2, LockTimeout: time.Minute})
	holder, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback(ctx) }()
	if _, err := holder.Exec(ctx, "SELECT * FROM t WHERE id = 1 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		go func() {
			// Wait until the statement below waits for the lock.
			for {
				var waiting bool
				if err := other.QueryRow(ctx, "SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
					tx.Conn().PgConn().PID()).Scan(&waiting); err != nil || waiting {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			_, _ = other.Exec(ctx, "SELECT pg_terminate_backend($1)", tx.Conn().PgConn().PID())
		}()
		_, err := tx.Exec(ctx, "UPDATE t SET v = 'x' WHERE id = 1")
		return err
	})
	t.Logf("error: %v", err)
	assertClass(t, "a statement whose backend was terminated", err, unavailable)
}

// A row lock held past lock_timeout (55P03), a deadlock (40P01) and a
// serialization failure (40001) are contention; nothing else is.
func TestContention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, other := setup(t, database.PoolConfig{MaxConns: 4, LockTimeout: 100 * time.Millisecond})

	t.Run("lock timeout", func(t *testing.T) {
		holder, err := other.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = holder.Rollback(ctx) }()
		if _, err := holder.Exec(ctx, "SELECT * FROM t WHERE id = 1 FOR UPDATE"); err != nil {
			t.Fatal(err)
		}
		_, err = pool.Exec(ctx, "UPDATE t SET v = 'x' WHERE id = 1")
		assertClass(t, "lock timeout", err, contended)
	})

	t.Run("uncommitted insert of the same key", func(t *testing.T) {
		holder, err := other.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = holder.Rollback(ctx) }()
		if _, err := holder.Exec(ctx, "INSERT INTO t VALUES (2, 'held')"); err != nil {
			t.Fatal(err)
		}
		_, err = pool.Exec(ctx, "INSERT INTO t VALUES (2, 'mine') ON CONFLICT DO NOTHING")
		assertClass(t, "insert waiting for another's insert", err, contended)
	})

	t.Run("serialization failure", func(t *testing.T) {
		a, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = a.Rollback(ctx) }()
		var v string
		if err := a.QueryRow(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Exec(ctx, "UPDATE t SET v = 'changed' WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		_, err = a.Exec(ctx, "UPDATE t SET v = 'mine' WHERE id = 1")
		assertClass(t, "serialization failure", err, contended)
	})

	t.Run("deadlock", func(t *testing.T) {
		if _, err := other.Exec(ctx, "INSERT INTO t VALUES (10, 'a'), (11, 'b')"); err != nil {
			t.Fatal(err)
		}
		a, err := other.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = a.Rollback(ctx) }()
		b, err := other.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = b.Rollback(ctx) }()
		if _, err := a.Exec(ctx, "UPDATE t SET v = 'a' WHERE id = 10"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Exec(ctx, "UPDATE t SET v = 'b' WHERE id = 11"); err != nil {
			t.Fatal(err)
		}
		// One of them is chosen as the deadlock's victim; once it has
		// rolled back, the other gets its lock.
		errs := make(chan error, 2)
		cross := func(tx pgx.Tx, id int) {
			_, err := tx.Exec(ctx, "UPDATE t SET v = 'x' WHERE id = $1", id)
			if err != nil {
				_ = tx.Rollback(ctx)
			}
			errs <- err
		}
		go cross(a, 11)
		go cross(b, 10)
		first, second := <-errs, <-errs
		if first == nil {
			first = second
		}
		assertClass(t, "deadlock", first, contended)
	})

	t.Run("not contention", func(t *testing.T) {
		_, err := pool.Exec(ctx, "INSERT INTO t VALUES (1, 'dup')")
		assertClass(t, "unique violation", err, neither)
		_, err = pool.Exec(ctx, "SELECT * FROM no_such_table")
		assertClass(t, "undefined table", err, neither)
		assertClass(t, "no rows", pool.QueryRow(ctx, "SELECT v FROM t WHERE id = -1").Scan(new(string)), neither)
	})
}

// The server being unreachable, out of time, or a standby: unavailable.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, other := setup(t, database.PoolConfig{MaxConns: 2})

	t.Run("refused connection", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		_, err = database.Open(ctx, "postgres://checkoutd@"+addr+"/checkoutd?connect_timeout=1", database.PoolConfig{})
		assertClass(t, "refused connection", err, unavailable)
	})

	t.Run("query deadline", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := pool.Exec(dctx, "SELECT pg_sleep(5)")
		assertClass(t, "a statement past its context's deadline", err, unavailable)
	})

	t.Run("statement timeout", func(t *testing.T) {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 10"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "SELECT pg_sleep(5)")
			return err
		})
		assertClass(t, "statement_timeout", err, unavailable)
	})

	t.Run("read-only transaction", func(t *testing.T) {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET TRANSACTION READ ONLY"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE t SET v = 'x' WHERE id = 1")
			return err
		})
		assertClass(t, "a write on a read-only session (a standby)", err, unavailable)
	})

	t.Run("too many connections", func(t *testing.T) {
		// A role limited to no connections is refused with 53300, as a
		// server at max_connections refuses everyone.
		role := fmt.Sprintf("checkoutd_test_nolimit_%d_%d", time.Now().UnixNano(), appSeq.Add(1))
		if _, err := other.Exec(ctx, "CREATE ROLE "+role+" LOGIN CONNECTION LIMIT 0"); err != nil {
			t.Skipf("cannot create a role: %v", err)
		}
		t.Cleanup(func() { _, _ = other.Exec(context.Background(), "DROP ROLE "+role) })
		cfg := other.Config().ConnConfig.Copy()
		cfg.User = role
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			conn.Close(ctx)
			t.Fatal("a role with CONNECTION LIMIT 0 connected")
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "53300" {
			t.Logf("not refused with 53300 but %v", err)
		}
		assertClass(t, "too many connections", err, unavailable)
	})
}

// NUL and invalid UTF-8 in a parameter are refused by the server with
// 22021: bad input, not an unavailable database.
func TestBadText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := setup(t, database.PoolConfig{MaxConns: 2})
	for _, s := range []string{"a\x00b", "\xff", "\xc3\x28"} {
		_, err := pool.Exec(ctx, "INSERT INTO t VALUES (100, $1)", s)
		assertClass(t, fmt.Sprintf("%q", s), err, badText)
	}
}

// SQLSTATEs that a test cannot easily make a server produce, by their
// codes.
func TestClassifyCodes(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]classified{
		"08000": unavailable, "08003": unavailable, "08006": unavailable, "08P01": unavailable,
		"57P01": unavailable, "57P02": unavailable, "57P03": unavailable, "57P04": unavailable, "57P05": unavailable,
		"57014": unavailable, "53300": unavailable, "53100": unavailable, "25006": unavailable,
		"55P03": contended, "40001": contended, "40P01": contended,
		"22021": badText, "22P05": badText,
		"23505": neither, "23514": neither, "42P01": neither, "22P02": neither, "40003": neither,
	} {
		err := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code})
		assertClass(t, code, err, want)
	}
	assertClass(t, "a cancelled context", context.Canceled, neither)
	assertClass(t, "ErrUnavailable", fmt.Errorf("x: %w", database.ErrUnavailable), unavailable)
	assertClass(t, "ErrContended", fmt.Errorf("x: %w", database.ErrContended), contended)
	if database.IsUnavailable(nil) || database.IsContended(nil) || database.IsBadText(nil) {
		t.Error("nil is classified")
	}
}

// Each constraint class has one helper, and only its codes answer to it.
func TestConstraintClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		is   func(error) bool
		yes  []string
	}{
		{"IsForeignKeyViolation", database.IsForeignKeyViolation, []string{"23503"}},
		{"IsCheckViolation", database.IsCheckViolation, []string{"23514"}},
		{"IsUndefinedTableOrColumn", database.IsUndefinedTableOrColumn, []string{"42P01", "42703"}},
	} {
		for _, code := range []string{"23503", "23514", "23505", "42P01", "42703", "40001", "08006"} {
			want := slices.Contains(tc.yes, code)
			if got := tc.is(fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code})); got != want {
				t.Errorf("%s(%s) = %v, want %v", tc.name, code, got, want)
			}
		}
		if tc.is(nil) || tc.is(errors.New("23503")) {
			t.Errorf("%s answers for an error that is not PostgreSQL's", tc.name)
		}
	}
}
