package main

import (
	"context"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

func TestShopsShowAndUpdate(t *testing.T) {
	dbURL := testdb.URL(t)
	shop := testdb.ShopID(t)
	setEnv(t, map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	if code, _, stderr := runCommand(ctx, "shops", "create", shop, "--name", "Acme"); code != 0 {
		t.Fatalf("shops create = %d: %s", code, stderr)
	}

	code, stdout, stderr := runCommand(ctx, "shops", "show", shop)
	if code != 0 || !strings.Contains(stdout, "name                 Acme\n") || !strings.Contains(stdout, "public availability  false\n") ||
		!strings.Contains(stdout, "default   0         Default\n") {
		t.Errorf("shops show = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	code, stdout, stderr = runCommand(ctx, "shops", "update", shop, "--public-availability")
	if code != 0 || !strings.Contains(stdout, "public availability  true\n") || !strings.Contains(stdout, "Acme") {
		t.Errorf("shops update --public-availability = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, stdout, stderr = runCommand(ctx, "shops", "update", "--name", "Acme GmbH", shop)
	if code != 0 || !strings.Contains(stdout, "name                 Acme GmbH\n") || !strings.Contains(stdout, "public availability  true\n") {
		t.Errorf("shops update --name = %d, want the name changed and availability kept\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, stdout, stderr = runCommand(ctx, "shops", "update", shop, "--public-availability=false")
	if code != 0 || !strings.Contains(stdout, "public availability  false\n") {
		t.Errorf("shops update --public-availability=false = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	unknown := testdb.ShopID(t)
	if code, _, stderr = runCommand(ctx, "shops", "show", unknown); code != 1 || !strings.Contains(stderr, "shop not found") {
		t.Errorf("shops show of an unknown shop = %d, stderr: %s", code, stderr)
	}
	if code, _, stderr = runCommand(ctx, "shops", "update", unknown, "--name", "x"); code != 1 || !strings.Contains(stderr, "shop not found") {
		t.Errorf("shops update of an unknown shop = %d, stderr: %s", code, stderr)
	}
	for _, args := range [][]string{
		{"shops", "show"},
		{"shops", "show", "Bad Id"},
		{"shops", "show", shop, "extra"},
		{"shops", "update", shop, "--name", ""},
		{"shops", "update", shop, "--public-availability=maybe"},
		{"shops", "delete", shop},
	} {
		if code, _, _ := runCommand(ctx, args...); code != 2 {
			t.Errorf("checkoutd %s = %d, want 2", strings.Join(args, " "), code)
		}
	}
}

func TestLocations(t *testing.T) {
	dbURL := testdb.URL(t)
	shop := testdb.ShopID(t)
	setEnv(t, map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	if code, _, stderr := runCommand(ctx, "shops", "create", shop); code != 0 {
		t.Fatalf("shops create = %d: %s", code, stderr)
	}
	code, stdout, stderr := runCommand(ctx, "locations", "add", "--shop", shop, "north", "--priority", "2")
	if code != 0 || stdout != "added location north to shop "+shop+" with priority 2\n" {
		t.Fatalf("locations add = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if code, _, stderr = runCommand(ctx, "locations", "add", "--shop", shop, "north"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("adding it again = %d, stderr: %s", code, stderr)
	}
	if code, _, _ = runCommand(ctx, "locations", "add", "--shop", shop, "Bad Id"); code != 2 {
		t.Errorf("adding an invalid id = %d, want 2", code)
	}
	// 2^32 + 5 would wrap to 5 in an int32.
	if code, _, stderr = runCommand(ctx, "locations", "add", "--shop", shop, "far", "--priority", "4294967301"); code != 2 || !strings.Contains(stderr, "priority") {
		t.Errorf("adding a priority past int32 = %d, want 2; stderr: %s", code, stderr)
	}

	code, stdout, stderr = runCommand(ctx, "locations", "list", "--shop", shop)
	want := "LOCATION  PRIORITY  NAME\ndefault   0         Default\nnorth     2         north\n"
	if code != 0 || stdout != want {
		t.Errorf("locations list = %d\nstdout: %s\nwant:   %s\nstderr: %s", code, stdout, want, stderr)
	}

	code, stdout, stderr = runCommand(ctx, "locations", "update", "--shop", shop, "north", "--priority", "-1", "--name", "North")
	if code != 0 || stdout != `location north of shop `+shop+`: name "North", priority -1`+"\n" {
		t.Errorf("locations update = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, stdout, _ = runCommand(ctx, "locations", "list", "--shop", shop)
	if want := "LOCATION  PRIORITY  NAME\nnorth     -1        North\ndefault   0         Default\n"; code != 0 || stdout != want {
		t.Errorf("locations list after the update = %d\nstdout: %s\nwant:   %s", code, stdout, want)
	}
	code, stdout, _ = runCommand(ctx, "locations", "update", "--shop", shop, "north", "--name", "North hall")
	if code != 0 || !strings.Contains(stdout, "priority -1") {
		t.Errorf("renaming kept the priority? %d %s", code, stdout)
	}

	if code, _, stderr = runCommand(ctx, "locations", "update", "--shop", shop, "south", "--priority", "1"); code != 1 || !strings.Contains(stderr, "location not found") {
		t.Errorf("updating an unknown location = %d, stderr: %s", code, stderr)
	}
	if code, _, stderr = runCommand(ctx, "locations", "list", "--shop", testdb.ShopID(t)); code != 1 || !strings.Contains(stderr, "shop not found") {
		t.Errorf("listing an unknown shop = %d, stderr: %s", code, stderr)
	}
	for _, args := range [][]string{
		{"locations", "list"},
		{"locations", "list", "--shop", shop, "extra"},
		{"locations", "update", "--shop", shop},
		{"locations", "update", "--shop", shop, "north", "--priority", "2000000"},
		{"locations", "move", "--shop", shop},
	} {
		if code, _, _ := runCommand(ctx, args...); code != 2 {
			t.Errorf("checkoutd %s = %d, want 2", strings.Join(args, " "), code)
		}
	}
}
