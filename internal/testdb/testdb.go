// Package testdb gives each test package a migrated PostgreSQL database of
// its own, so that go test can run packages in parallel against one server.
//
// The server is TEST_DATABASE_URL, else DATABASE_URL, else the local default
// server. A template database is migrated once per migration set and cloned
// for each package, which is much faster than migrating every database.
// Tests within a package share its database and keep out of each other's way
// by working under their own shop (see ShopID).
//
// Every database this package creates is named checkoutd_test_...: the
// template, which stays to be cloned by later runs, and one per test
// package, which lives as long as its test binary. Whenever a test binary
// sets up, it drops every such database (but the template) that nobody is
// connected to, whichever package or checkout made it, so they do not pile
// up on a shared server; make test calls DropAbandoned once more when its
// tests end (make clean-testdb).
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/migrations"
)

const (
	defaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

	// namePrefix starts the name of every database this package creates.
	namePrefix = "checkoutd_test_"

	templateName = namePrefix + "template"

	// templateLockKey serializes template builds and clones across test
	// binaries running at once: ASCII "ckd_tmpl". It is taken in the
	// maintenance database, so it cannot meet migrations' own lock.
	templateLockKey int64 = 0x636b645f746d706c

	// setupTimeout bounds the wait for other test binaries' template work
	// plus our own.
	setupTimeout = 2 * time.Minute
)

var (
	setupOnce sync.Once
	pkgPool   *pgxpool.Pool
	pkgURL    string
	setupErr  error
)

// Pool returns the pool of this test package's database, creating the
// database on first use in the process. Every call returns the same pool; it
// stays open until the process exits. A setup failure, such as no server
// answering, fails tb.
//
// The database is named after the package plus a random suffix, so two
// processes testing the same package against one server at once (a developer
// running one test while make test runs) keep out of each other's way. It is
// dropped by the next test binary to set up, or by DropAbandoned, once the
// pool is gone: its connections tell other processes it is in use.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	setupOnce.Do(setup)
	if setupErr != nil {
		tb.Fatal(setupErr)
	}
	return pkgPool
}

// URL returns the connection URL of this test package's database, for code
// that opens its own pool. It sets the database up like Pool.
func URL(tb testing.TB) string {
	tb.Helper()
	Pool(tb)
	return pkgURL
}

// EmptyURL creates a new database with nothing in it, not even migrations,
// and returns its URL. The database is dropped when tb's test finishes.
func EmptyURL(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	server := serverURL()
	name := packageDatabaseName() + "_" + randomHex(4)
	dbURL, err := withDatabase(server, name)
	if err != nil {
		tb.Fatal(err)
	}
	// Created under the template lock with a connection held until the
	// test ends, so that no other process's sweep finds it unused.
	keep, err := createUnderLock(ctx, server, name, "", func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.Connect(ctx, dbURL)
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = keep.Close(ctx)
		conn, err := connectMaintenance(ctx, server)
		if err != nil {
			tb.Error(err)
			return
		}
		defer conn.Close(ctx)
		// FORCE because pools the test forgot to close would block the drop.
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	return dbURL
}

// ShopID returns a shop id no other test uses: "t-", then tb's name made
// valid, then a random suffix. It matches the shops_id_format constraint
// (^[a-z0-9][a-z0-9_-]{0,63}$).
func ShopID(tb testing.TB) string {
	tb.Helper()
	const maxLen = 64
	suffix := "-" + randomHex(6)
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '-'
	}, tb.Name())
	if room := maxLen - len("t-") - len(suffix); len(name) > room {
		name = name[:room]
	}
	return "t-" + name + suffix
}

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	pkgPool, pkgURL, setupErr = createPackageDatabase(ctx, serverURL(), packageDatabaseName()+"_"+randomHex(4))
}

func serverURL() string {
	for _, env := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return defaultServerURL
}

// connectMaintenance connects to the server's maintenance database, turning
// a server that does not answer into advice on how to get one.
func connectMaintenance(ctx context.Context, server string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(server)
	if err != nil {
		return nil, fmt.Errorf("testdb: parse TEST_DATABASE_URL/DATABASE_URL: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("testdb: cannot connect to PostgreSQL at %s:%d: %w\n"+
			"\t`make test` starts a private PostgreSQL automatically (scripts/with-postgres).\n"+
			"\tTo use a server of your own, point TEST_DATABASE_URL at its maintenance database\n"+
			"\t(e.g. TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' go test ./...)",
			cfg.Host, cfg.Port, err)
	}
	return conn, nil
}

// createPackageDatabase makes sure the template is current, then creates
// database name from it and connects to it.
func createPackageDatabase(ctx context.Context, server, name string) (*pgxpool.Pool, string, error) {
	dbURL, err := withDatabase(server, name)
	if err != nil {
		return nil, "", err
	}
	// Open pings, so the pool holds a connection before the lock goes.
	pool, err := createUnderLock(ctx, server, name, templateName, func(ctx context.Context) (*pgxpool.Pool, error) {
		return database.Open(ctx, dbURL, database.PoolConfig{
			MaxConns:        40,
			LockTimeout:     3 * time.Second,
			ApplicationName: "checkoutd-test",
		})
	})
	if err != nil {
		return nil, "", err
	}
	return pool, dbURL, nil
}

// createUnderLock creates database name (a clone of template unless that is
// empty), after making sure the template is current and dropping abandoned
// test databases, and connects to it with connect, all under the template
// lock: other processes drop test databases nobody is connected to, and
// must not catch this one between its creation and its first connection.
func createUnderLock[C any](ctx context.Context, server, name, template string, connect func(context.Context) (C, error)) (C, error) {
	var none C
	conn, err := connectMaintenance(ctx, server)
	if err != nil {
		return none, err
	}
	// Closing the session also releases the advisory lock.
	defer conn.Close(ctx)

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return none, fmt.Errorf("testdb: take template lock: %w", err)
	}
	if template != "" {
		if err := ensureTemplate(ctx, conn, server); err != nil {
			return none, err
		}
	}
	if _, err := dropAbandoned(ctx, conn, false); err != nil {
		return none, err
	}
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		// Cloning under the lock too keeps another binary with a different
		// migration set from rebuilding the template halfway through the copy.
		create += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, create); err != nil {
		return none, fmt.Errorf("testdb: create database %s: %w", name, err)
	}
	c, err := connect(ctx)
	if err != nil {
		return none, fmt.Errorf("testdb: connect to %s: %w", name, err)
	}
	return c, nil
}

// DropAbandoned drops, on the server at serverURL (a URL of its maintenance
// database), every test database nobody is connected to, and the template
// too if withTemplate, and returns their names. A test binary still running
// keeps its database: it holds connections to it.
func DropAbandoned(ctx context.Context, serverURL string, withTemplate bool) ([]string, error) {
	conn, err := connectMaintenance(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	// Under the lock, so as not to drop a database between its creation
	// and its first connection, or the template while it is cloned.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return nil, fmt.Errorf("testdb: take template lock: %w", err)
	}
	return dropAbandoned(ctx, conn, withTemplate)
}

// dropAbandoned drops the test databases nobody is connected to, of every
// package and every checkout, but the template unless withTemplate. DROP
// DATABASE without FORCE refuses a database in use, so one whose test
// binary connects at the last moment survives.
func dropAbandoned(ctx context.Context, conn *pgx.Conn, withTemplate bool) ([]string, error) {
	rows, err := conn.Query(ctx, `
		SELECT datname FROM pg_database d
		WHERE starts_with(datname, $1) AND (datname <> $2 OR $3)
		  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)
		ORDER BY datname`,
		namePrefix, templateName, withTemplate)
	if err != nil {
		return nil, fmt.Errorf("testdb: list abandoned databases: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("testdb: list abandoned databases: %w", err)
	}
	var dropped []string
	for _, name := range names {
		// A database someone connected to since the query above stays: the
		// drop fails with "in use", which is fine.
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err == nil {
			dropped = append(dropped, name)
		}
	}
	return dropped, nil
}

// ensureTemplate (re)builds the template database unless its comment already
// carries the current migration hash. The comment is written last, so a
// build that died halfway is rebuilt.
func ensureTemplate(ctx context.Context, conn *pgx.Conn, server string) error {
	hash, err := migrationHash()
	if err != nil {
		return err
	}
	var comment *string
	err = conn.QueryRow(ctx,
		"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
		templateName,
	).Scan(&comment)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("testdb: read template hash: %w", err)
	}
	if comment != nil && *comment == hash {
		return nil
	}

	ident := pgx.Identifier{templateName}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("testdb: drop outdated template: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("testdb: create template: %w", err)
	}
	templateURL, err := withDatabase(server, templateName)
	if err != nil {
		return err
	}
	if err := migrateTemplate(ctx, templateURL); err != nil {
		return err
	}
	// COMMENT takes no parameters, hence the literal; the hash is hex.
	if _, err := conn.Exec(ctx, "COMMENT ON DATABASE "+ident+" IS '"+hash+"'"); err != nil {
		return fmt.Errorf("testdb: record template hash: %w", err)
	}
	return nil
}

func migrateTemplate(ctx context.Context, templateURL string) error {
	pool, err := database.Open(ctx, templateURL, database.PoolConfig{MaxConns: 4, ApplicationName: "checkoutd-test"})
	if err != nil {
		return fmt.Errorf("testdb: open template: %w", err)
	}
	// Closed before cloning: CREATE DATABASE refuses a template that has
	// sessions.
	defer pool.Close()
	if err := migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		return fmt.Errorf("testdb: migrate template: %w", err)
	}
	return nil
}

// migrationHash identifies the schema the template must have: a SHA-256 over
// the embedded goose migrations and the SQL of every River migration, which
// changes whenever the River release brings new ones.
func migrationHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "goose %s %d\n", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("testdb: hash goose migrations: %w", err)
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "", fmt.Errorf("testdb: river migrator: %w", err)
	}
	for _, m := range migrator.AllVersions() {
		fmt.Fprintf(h, "river %d %s %d\n", m.Version, m.Name, len(m.SQLUp))
		h.Write([]byte(m.SQLUp))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// packageDatabaseName derives the database name from the test binary, which
// go test names after the package ("inventory.test"), plus a hash of the
// working directory, which go test sets to the package's source directory,
// so that two packages with the same name do not share (and drop) one
// database.
func packageDatabaseName() string {
	base := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	base = strings.TrimSuffix(base, ".test")
	base = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '_'
	}, base)
	// 63 bytes is PostgreSQL's identifier limit; Pool and EmptyURL append
	// 9 more each.
	const maxBase = 63 - len(namePrefix) - 3*len("_12345678")
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	dir, _ := os.Getwd()
	sum := sha256.Sum256([]byte(dir))
	return namePrefix + base + "_" + hex.EncodeToString(sum[:4])
}

// withDatabase returns server with its database replaced by name. server
// may be a URL or a keyword/value connection string.
func withDatabase(server, name string) (string, error) {
	if strings.HasPrefix(server, "postgres://") || strings.HasPrefix(server, "postgresql://") {
		u, err := url.Parse(server)
		if err != nil {
			return "", fmt.Errorf("testdb: parse server URL: %w", err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In keyword/value strings a later keyword overrides an earlier one.
	// Names built here need no quoting.
	return server + " dbname=" + name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails.
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
