package alerts_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/internal/testdb"
)

// insertAlert records an alert by SQL, created at createdAt, with a
// delivery per status given (slack, then webhook).
func (f *fixture) insertAlert(t *testing.T, id, kind string, createdAt time.Time, statuses ...string) {
	t.Helper()
	ctx := context.Background()
	var err error
	if kind == alerts.KindLowStock {
		_, err = f.pool.Exec(ctx, `INSERT INTO alerts (shop_id, id, kind, sku, variant_key, available, threshold, message, created_at)
			VALUES ($1, $2, 'low_stock', 'SKU-1', 'size:M', 2, 5, 'low', $3)`, f.shopID, id, createdAt)
	} else {
		_, err = f.pool.Exec(ctx, `INSERT INTO alerts (shop_id, id, kind, oversold_id, message, created_at)
			VALUES ($1, $2, 'oversold', 'ovs_' || $2, 'oversold', $3)`, f.shopID, id, createdAt)
	}
	if err != nil {
		t.Fatalf("insert alert: %v", err)
	}
	for i, st := range statuses {
		ch := []string{alerts.ChannelSlack, alerts.ChannelWebhook}[i]
		_, err := f.pool.Exec(ctx, `INSERT INTO alert_deliveries (shop_id, alert_id, channel, status, attempts, last_error_class, delivered_at)
			VALUES ($1, $2, $3, $4::text, CASE $4::text WHEN 'delivered' THEN 1 ELSE 3 END,
			        CASE $4::text WHEN 'delivered' THEN NULL ELSE 'http_500' END,
			        CASE $4::text WHEN 'delivered' THEN $5::timestamptz END)`,
			f.shopID, id, ch, st, createdAt.Add(time.Second))
		if err != nil {
			t.Fatalf("insert delivery: %v", err)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	base := time.Date(2026, 2, 3, 4, 5, 6, 789000000, time.UTC)
	f.insertAlert(t, "alr_1", alerts.KindLowStock, base, alerts.StatusDelivered, alerts.StatusFailed)
	f.insertAlert(t, "alr_2", alerts.KindOversold, base.Add(time.Minute))
	f.insertAlert(t, "alr_3", alerts.KindOversold, base.Add(2*time.Minute), alerts.StatusPending)
	// Same instant as alr_3: the cursor never splits or skips them.
	f.insertAlert(t, "alr_4", alerts.KindLowStock, base.Add(2*time.Minute), alerts.StatusDelivered)

	var ids []string
	cursor := ""
	for range 5 {
		page, err := alerts.List(ctx, f.pool, f.shopID, 1, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Items {
			ids = append(ids, a.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if want := []string{"alr_4", "alr_3", "alr_2", "alr_1"}; len(ids) != 4 || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] || ids[3] != want[3] {
		t.Fatalf("paged through %v, want %v", ids, want)
	}

	page, err := alerts.List(ctx, f.pool, f.shopID, 0, "")
	if err != nil || len(page.Items) != 4 || page.NextCursor != nil {
		t.Fatalf("one page of all: %+v, %v", page, err)
	}
	got, _ := json.Marshal(page.Items[3])
	want := `{"id":"alr_1","kind":"low_stock","sku":"SKU-1","variantKey":"size:M","available":2,"threshold":5,"oversoldId":null,` +
		`"message":"low","createdAt":"2026-02-03T04:05:06.789Z","held":false,"digestId":null,"deliveries":[` +
		`{"channel":"slack","status":"delivered","attempts":1,"lastError":null,"deliveredAt":"2026-02-03T04:05:07.789Z"},` +
		`{"channel":"webhook","status":"failed","attempts":3,"lastError":"http_500","deliveredAt":null}]}`
	if string(got) != want {
		t.Errorf("alert\n got  %s\n want %s", got, want)
	}
	got, _ = json.Marshal(page.Items[2])
	want = `{"id":"alr_2","kind":"oversold","sku":null,"variantKey":null,"available":null,"threshold":null,"oversoldId":"ovs_alr_2",` +
		`"message":"oversold","createdAt":"2026-02-03T04:06:06.789Z","held":false,"digestId":null,"deliveries":[]}`
	if string(got) != want {
		t.Errorf("alert without deliveries\n got  %s\n want %s", got, want)
	}

	// A shop without alerts has an empty page; an unknown one is not found.
	other := newFixture(t)
	page, err = alerts.List(ctx, f.pool, other.shopID, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, page); string(got) != `{"items":[],"nextCursor":null}` {
		t.Errorf("shop without alerts: %s", got)
	}
	if _, err := alerts.List(ctx, f.pool, testdb.ShopID(t), 0, ""); !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("unknown shop: %v, want ErrShopNotFound", err)
	}
}

func TestListRefuses(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	for _, tt := range []struct {
		shop, cursor, field string
		limit               int
	}{
		{"Shop1", "", "shopId", 0},
		{"s1", "", "limit", -1},
		{"s1", "", "limit", 501},
		{"s1", "!!", "cursor", 0},
		{"s1", "e30", "cursor", 0}, // {}
	} {
		_, err := alerts.List(context.Background(), pool, tt.shop, tt.limit, tt.cursor)
		var invalid *checkoutd.ValidationError
		if !errors.As(err, &invalid) || len(invalid.Details) != 1 || invalid.Details[0].Field != tt.field {
			t.Errorf("List(%q, %d, %q) = %v, want a validation error on %s", tt.shop, tt.limit, tt.cursor, err, tt.field)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
