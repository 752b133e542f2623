package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// TestFlashSale sends 500 concurrent requests for one unit each at a line with
// 25 on hand: exactly 25 get a hold, the other 475 a clean 409, and the
// ledger adds up afterwards.
func TestFlashSale(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	const onHand, buyers = 25, 500
	h.stock(t, shop, "DROP-1", "size:M", "", onHand)

	body, err := json.Marshal(map[string]any{"items": []any{item("DROP-1", "size:M", 1)}, "ttlSeconds": 600})
	if err != nil {
		t.Fatal(err)
	}
	url := h.url + shopPath(shop, "/holds")

	type result struct {
		status int
		body   []byte
		err    error
	}
	results := make([]result, buyers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() {
			<-start
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				results[i].err = err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+serviceToken)
			resp, err := h.client.Do(req)
			if err != nil {
				results[i].err = err
				return
			}
			defer resp.Body.Close()
			results[i].status = resp.StatusCode
			results[i].body, results[i].err = io.ReadAll(resp.Body)
		})
	}
	close(start)
	wg.Wait()

	var created, insufficient int
	holdIDs := map[string]bool{}
	for i, r := range results {
		if r.err != nil {
			t.Errorf("request %d: %v", i, r.err)
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Errorf("request %d: %d %s", i, r.status, r.body)
			continue
		}
		switch r.status {
		case http.StatusCreated:
			created++
			id, _ := m["id"].(string)
			if holdIDs[id] {
				t.Errorf("hold %s placed twice", id)
			}
			holdIDs[id] = true
		case http.StatusConflict:
			insufficient++
			if m["error"] != "insufficient_stock" || m["code"] != "inventory_insufficient" {
				t.Errorf("request %d: 409 %s", i, r.body)
			}
			lines, _ := m["items"].([]any)
			if len(lines) != 1 {
				t.Errorf("request %d: 409 %s", i, r.body)
				continue
			}
			if l := lines[0].(map[string]any); l["sku"] != "DROP-1" || l["variantKey"] != "size:M" || l["requested"] != 1.0 || l["available"] != 0.0 {
				t.Errorf("request %d: 409 %s", i, r.body)
			}
		default:
			t.Errorf("request %d: %d %s", i, r.status, r.body)
		}
	}
	if created != onHand || insufficient != buyers-onHand {
		t.Errorf("%d created and %d insufficient, want %d and %d", created, insufficient, onHand, buyers-onHand)
	}

	inventorytest.RequireLedgerClean(t, h.ledger, shop)
	r := h.svc(t, http.MethodGet, shopPath(shop, "/stock/DROP-1?variantKey=size:M"), nil)
	expect(t, r, http.StatusOK, "")
	m := r.Obj(t)
	if num(t, m, "onHand") != onHand || num(t, m, "reserved") != onHand || num(t, m, "available") != 0 {
		t.Errorf("after the sale: %s", r.Raw)
	}
}
