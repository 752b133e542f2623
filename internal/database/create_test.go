package database_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
)

// EnsureDatabase creates the database once and finds it the second time, for
// URLs and key=value connection strings alike.
func TestEnsureDatabase(t *testing.T) {
	ctx := context.Background()
	serverURL := testdb.EmptyURL(t)
	name := fmt.Sprintf("checkoutd_ensure_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Errorf("connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})

	cfg, err := pgx.ParseConfig(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	keyValue := fmt.Sprintf("host=%s port=%d user=%s dbname=%s", cfg.Host, cfg.Port, cfg.User, cfg.Database)
	if cfg.Password != "" {
		keyValue += " password=" + cfg.Password
	}
	for _, server := range []string{serverURL, keyValue, serverURL} {
		got, err := database.EnsureDatabase(ctx, server, name)
		if err != nil {
			t.Fatalf("EnsureDatabase(%q): %v", server, err)
		}
		conn, err := pgx.Connect(ctx, got)
		if err != nil {
			t.Fatalf("connect to %q: %v", got, err)
		}
		var current string
		err = conn.QueryRow(ctx, "SELECT current_database()").Scan(&current)
		conn.Close(ctx)
		if err != nil || current != name {
			t.Errorf("EnsureDatabase(%q) = %q, connected to %q (%v), want %q", server, got, current, err, name)
		}
	}
}
