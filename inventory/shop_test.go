package inventory_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

func TestCreateShop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ledger := newFixture(t).ledger
	id := testdb.ShopID(t)

	before := time.Now()
	shop, err := ledger.CreateShop(ctx, id, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Location{{ID: inventory.DefaultLocation, Name: "Default", Priority: 0}}
	if shop.ID != id || shop.Name != "Acme" || shop.PublicAvailability || !slices.Equal(shop.Locations, want) {
		t.Errorf("CreateShop = %+v, want %s named Acme, not public, with %+v", shop, id, want)
	}
	if shop.CreatedAt.Location() != time.UTC || shop.CreatedAt.Before(before.Add(-time.Minute)) {
		t.Errorf("CreatedAt = %v, want now in UTC", shop.CreatedAt)
	}
	got, err := ledger.GetShop(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != shop.ID || got.Name != shop.Name || !got.CreatedAt.Equal(shop.CreatedAt) || !slices.Equal(got.Locations, want) {
		t.Errorf("GetShop = %+v, want what CreateShop returned, %+v", got, shop)
	}

	if _, err := ledger.CreateShop(ctx, id, "Again"); !errors.Is(err, inventory.ErrShopExists) {
		t.Errorf("CreateShop of a taken id = %v, want ErrShopExists", err)
	}
	if got, _ := ledger.GetShop(ctx, id); got.Name != "Acme" {
		t.Errorf("a refused CreateShop renamed the shop to %q", got.Name)
	}

	unnamed := testdb.ShopID(t)
	if shop, err := ledger.CreateShop(ctx, unnamed, ""); err != nil || shop.Name != unnamed {
		t.Errorf("CreateShop without a name = %+v, %v; want it named after its id", shop, err)
	}
}

func TestShopValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	long := strings.Repeat("é", 256)
	empty := ""

	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"create: bad id", func() error { _, err := f.ledger.CreateShop(ctx, "Not Valid", "x"); return err }, "id"},
		{"create: long name", func() error { _, err := f.ledger.CreateShop(ctx, testdb.ShopID(t), long); return err }, "name"},
		{"create: NUL in name", func() error { _, err := f.ledger.CreateShop(ctx, testdb.ShopID(t), "a\x00b"); return err }, "name"},
		{"create: invalid UTF-8", func() error { _, err := f.ledger.CreateShop(ctx, testdb.ShopID(t), "a\xffb"); return err }, "name"},
		{"get: bad id", func() error { _, err := f.ledger.GetShop(ctx, "-x"); return err }, "shopId"},
		{"update: empty name", func() error {
			_, err := f.ledger.UpdateShop(ctx, f.shopID, inventory.ShopUpdate{Name: &empty})
			return err
		}, "name"},
		{"update: long name", func() error {
			_, err := f.ledger.UpdateShop(ctx, f.shopID, inventory.ShopUpdate{Name: &long})
			return err
		}, "name"},
		{"add location: bad id", func() error { _, err := f.ledger.AddLocation(ctx, f.shopID, "Berlin", "", 0); return err }, "id"},
		{"add location: priority too high", func() error {
			_, err := f.ledger.AddLocation(ctx, f.shopID, "far", "", inventory.MaxPriority+1)
			return err
		}, "priority"},
		{"add location: priority too low", func() error {
			_, err := f.ledger.AddLocation(ctx, f.shopID, "far", "", inventory.MinPriority-1)
			return err
		}, "priority"},
		{"list locations: bad shop id", func() error { _, err := f.ledger.ListLocations(ctx, "A"); return err }, "shopId"},
		{"update location: bad id", func() error {
			_, err := f.ledger.UpdateLocation(ctx, f.shopID, "a b", inventory.LocationUpdate{})
			return err
		}, "locationId"},
		{"update location: priority", func() error {
			p := int64(inventory.MaxPriority + 1)
			_, err := f.ledger.UpdateLocation(ctx, f.shopID, inventory.DefaultLocation, inventory.LocationUpdate{Priority: &p})
			return err
		}, "priority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var invalid *checkoutd.ValidationError
			if err := tt.call(); !errors.As(err, &invalid) || !slices.ContainsFunc(invalid.Details, func(d checkoutd.FieldIssue) bool { return d.Field == tt.field }) {
				t.Errorf("err = %v, want a ValidationError naming %s", err, tt.field)
			}
		})
	}
	shop, err := f.ledger.GetShop(ctx, f.shopID)
	if err != nil {
		t.Fatal(err)
	}
	if shop.Name != "Test shop" || len(shop.Locations) != 1 || shop.Locations[0].Priority != 0 {
		t.Errorf("refused requests changed the shop: %+v", shop)
	}
}

func TestUpdateShop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	public, name := true, "Renamed"

	shop, err := f.ledger.UpdateShop(ctx, f.shopID, inventory.ShopUpdate{PublicAvailability: &public})
	if err != nil {
		t.Fatal(err)
	}
	if !shop.PublicAvailability || shop.Name != "Test shop" || len(shop.Locations) != 2 {
		t.Errorf("UpdateShop(publicAvailability) = %+v, want public, the name kept, both locations", shop)
	}
	shop, err = f.ledger.UpdateShop(ctx, f.shopID, inventory.ShopUpdate{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if !shop.PublicAvailability || shop.Name != name {
		t.Errorf("UpdateShop(name) = %+v, want renamed and still public", shop)
	}
	unchanged, err := f.ledger.UpdateShop(ctx, f.shopID, inventory.ShopUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	if unchanged.Name != name || !unchanged.PublicAvailability || !unchanged.CreatedAt.Equal(shop.CreatedAt) {
		t.Errorf("an empty update = %+v, want the shop as it was, %+v", unchanged, shop)
	}
	if got, _ := f.ledger.GetShop(ctx, f.shopID); !got.PublicAvailability || got.Name != name {
		t.Errorf("GetShop after the updates = %+v", got)
	}

	unknown := testdb.ShopID(t)
	if _, err := f.ledger.UpdateShop(ctx, unknown, inventory.ShopUpdate{Name: &name}); !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("UpdateShop of an unknown shop = %v, want ErrShopNotFound", err)
	}
	if _, err := f.ledger.UpdateShop(ctx, unknown, inventory.ShopUpdate{}); !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("an empty UpdateShop of an unknown shop = %v, want ErrShopNotFound", err)
	}
	if _, err := f.ledger.GetShop(ctx, unknown); !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("GetShop of an unknown shop = %v, want ErrShopNotFound", err)
	}
}

func TestLocations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)

	loc, err := f.ledger.AddLocation(ctx, f.shopID, "berlin", "Berlin", 10)
	if err != nil {
		t.Fatal(err)
	}
	if *loc != (inventory.Location{ID: "berlin", Name: "Berlin", Priority: 10}) {
		t.Errorf("AddLocation = %+v", loc)
	}
	if loc, err := f.ledger.AddLocation(ctx, f.shopID, "annex", "", -5); err != nil || loc.Name != "annex" {
		t.Errorf("AddLocation without a name = %+v, %v; want it named after its id", loc, err)
	}
	if _, err := f.ledger.AddLocation(ctx, f.shopID, "berlin", "Again", 1); !errors.Is(err, inventory.ErrLocationExists) {
		t.Errorf("AddLocation of a taken id = %v, want ErrLocationExists", err)
	}
	if _, err := f.ledger.AddLocation(ctx, testdb.ShopID(t), "berlin", "", 1); !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("AddLocation to an unknown shop = %v, want ErrShopNotFound", err)
	}

	list := func() []string {
		t.Helper()
		locs, err := f.ledger.ListLocations(ctx, f.shopID)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(locs))
		for i, l := range locs {
			ids[i] = l.ID
		}
		return ids
	}
	if got, want := list(), []string{"annex", "default", "berlin"}; !slices.Equal(got, want) {
		t.Errorf("ListLocations = %v, want allocation order %v", got, want)
	}

	p, name := int64(-10), "Berlin Mitte"
	loc, err = f.ledger.UpdateLocation(ctx, f.shopID, "berlin", inventory.LocationUpdate{Priority: &p, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if *loc != (inventory.Location{ID: "berlin", Name: name, Priority: -10}) {
		t.Errorf("UpdateLocation = %+v", loc)
	}
	if got, want := list(), []string{"berlin", "annex", "default"}; !slices.Equal(got, want) {
		t.Errorf("ListLocations after the update = %v, want %v", got, want)
	}
	if same, err := f.ledger.UpdateLocation(ctx, f.shopID, "berlin", inventory.LocationUpdate{}); err != nil || *same != *loc {
		t.Errorf("an empty UpdateLocation = %+v, %v; want %+v", same, err, loc)
	}

	if _, err := f.ledger.UpdateLocation(ctx, f.shopID, "paris", inventory.LocationUpdate{Priority: &p}); !errors.Is(err, inventory.ErrLocationNotFound) {
		t.Errorf("UpdateLocation of an unknown location = %v, want ErrLocationNotFound", err)
	}
	unknown := testdb.ShopID(t)
	if _, err := f.ledger.UpdateLocation(ctx, unknown, "berlin", inventory.LocationUpdate{Priority: &p}); !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("UpdateLocation in an unknown shop = %v, want ErrShopNotFound", err)
	}
	if _, err := f.ledger.ListLocations(ctx, unknown); !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("ListLocations of an unknown shop = %v, want ErrShopNotFound", err)
	}
}

// A location's new priority orders the holds placed after the change.
func TestUpdateLocationPriorityOrdersAllocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 5)
	f.stock(t, "A", "", "north", 5)

	first := f.reserve(t, item("A", 1))
	if got, want := first.Items[0].Allocations, []inventory.Allocation{{LocationID: "default", Quantity: 1}}; !slices.Equal(got, want) {
		t.Fatalf("before the change: allocations %+v, want %+v", got, want)
	}
	p := int64(-1)
	if _, err := f.ledger.UpdateLocation(ctx, f.shopID, "north", inventory.LocationUpdate{Priority: &p}); err != nil {
		t.Fatal(err)
	}
	second := f.reserve(t, item("A", 1))
	if got, want := second.Items[0].Allocations, []inventory.Allocation{{LocationID: "north", Quantity: 1}}; !slices.Equal(got, want) {
		t.Errorf("after the change: allocations %+v, want %+v", got, want)
	}
	if got := f.hold(t, first.ID).Items[0].Allocations[0].LocationID; got != "default" {
		t.Errorf("the earlier hold moved to %s", got)
	}
}
