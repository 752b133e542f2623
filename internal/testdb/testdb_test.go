package testdb

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/migrations"
)

func TestPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := Pool(t)

	if Pool(t) != pool {
		t.Error("second Pool call returned a different pool")
	}
	current, err := migrations.Current(ctx, pool)
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	if !current {
		t.Error("package database is not migrated")
	}

	var dbName string
	if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatalf("current_database: %v", err)
	}
	if want := packageDatabaseName() + "_"; !strings.HasPrefix(dbName, want) || len(dbName) != len(want)+8 {
		t.Errorf("pool is on database %q, want %q and 8 hex digits", dbName, want)
	}

	// URL must lead to the same database.
	conn, err := pgx.Connect(ctx, URL(t))
	if err != nil {
		t.Fatalf("connect to URL: %v", err)
	}
	defer conn.Close(ctx)
	var urlDBName string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&urlDBName); err != nil {
		t.Fatalf("current_database via URL: %v", err)
	}
	if urlDBName != dbName {
		t.Errorf("URL leads to database %q, pool to %q", urlDBName, dbName)
	}

	// The template carries the hash that lets later runs reuse it.
	hash, err := migrationHash()
	if err != nil {
		t.Fatalf("migrationHash: %v", err)
	}
	var comment string
	if err := pool.QueryRow(ctx, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", templateName).Scan(&comment); err != nil {
		t.Fatalf("read template comment: %v", err)
	}
	if comment != hash {
		t.Errorf("template comment = %q, want migration hash %q", comment, hash)
	}
}

func TestShopID(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

	seen := map[string]bool{}
	for range 100 {
		id := ShopID(t)
		if !valid.MatchString(id) {
			t.Fatalf("ShopID = %q, not a valid shop id", id)
		}
		if seen[id] {
			t.Fatalf("ShopID returned %q twice", id)
		}
		seen[id] = true
	}

	t.Run(strings.Repeat("Long Ünïcode/name ", 10), func(t *testing.T) {
		if id := ShopID(t); !valid.MatchString(id) {
			t.Errorf("ShopID = %q, not a valid shop id", id)
		}
	})

	// The database's own check is the one that counts.
	ctx := context.Background()
	id := ShopID(t)
	if _, err := Pool(t).Exec(ctx, "INSERT INTO shops (id) VALUES ($1)", id); err != nil {
		t.Errorf("insert shop %q: %v", id, err)
	}
}

func TestEmptyURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, EmptyURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
		t.Fatalf("count tables: %v", err)
	}
	if tables != 0 {
		t.Errorf("empty database has %d tables", tables)
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		server, want string
	}{
		{
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/db_1?sslmode=disable",
		},
		{
			"postgresql://u:p@h/",
			"postgresql://u:p@h/db_1",
		},
		{
			"host=127.0.0.1 dbname=postgres",
			"host=127.0.0.1 dbname=postgres dbname=db_1",
		},
	} {
		got, err := withDatabase(tt.server, "db_1")
		if err != nil {
			t.Errorf("withDatabase(%q): %v", tt.server, err)
			continue
		}
		if got != tt.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tt.server, got, tt.want)
		}
	}

	// pgx must agree that the later dbname wins.
	cfg, err := pgx.ParseConfig("host=127.0.0.1 dbname=postgres dbname=db_1")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if cfg.Database != "db_1" {
		t.Errorf("keyword/value override gave database %q, want db_1", cfg.Database)
	}
}

func TestDropAbandonedKeepsDatabasesInUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inUse := URL(t)
	conn, err := connectMaintenance(ctx, serverURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	abandoned := namePrefix + "abandoned_" + randomHex(4)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{abandoned}.Sanitize()); err != nil {
		t.Fatal(err)
	}

	dropped, err := DropAbandoned(ctx, serverURL(), false)
	if err != nil {
		t.Fatalf("DropAbandoned: %v", err)
	}
	exists := func(name string) bool {
		var found bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&found); err != nil {
			t.Fatal(err)
		}
		return found
	}
	// Another test's setup may have swept it first.
	if exists(abandoned) {
		t.Errorf("after DropAbandoned (which dropped %v) %s is still there", dropped, abandoned)
	}
	u, err := url.Parse(inUse)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{templateName, strings.TrimPrefix(u.Path, "/")} {
		if !exists(name) || slices.Contains(dropped, name) {
			t.Errorf("DropAbandoned dropped %s, which it must keep", name)
		}
	}
}
