package client_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/client"
)

// authority is a real checkoutd inventory API, wired as cmd/checkoutd's
// serve does, on a loopback port over the package's test database.
type authority struct {
	URL    string // http://127.0.0.1:port, without /api/inventory
	Token  string // the service token
	Ledger *inventory.Ledger
	Keys   *apikey.Store
	// Stripe is the in-process Stripe the checkout route creates its
	// sessions in.
	Stripe *testkit.FakeStripe
}

// startAuthority starts an authority and returns it with the function that
// stops it. Tests use newAuthority, which stops it when the test ends.
func startAuthority(tb testing.TB) (*authority, func()) {
	tb.Helper()
	pool := testdb.Pool(tb)
	logger := slog.New(slog.DiscardHandler)
	a := &authority{
		Token:  "svc-" + rand.Text(),
		Ledger: inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: 5, Logger: logger}),
		Keys:   apikey.NewStore(pool),
	}
	srv := httpserver.New(httpserver.Options{Pool: pool, Logger: logger})
	api := httpapi.New(a.Ledger, a.Keys, httpapi.Config{
		ServiceToken:   a.Token,
		DefaultHoldTTL: 20 * time.Minute,
	}, logger)
	api.Mount(srv.Router())
	a.Stripe = testkit.NewFakeStripe()
	api.MountCheckout(srv.Router(), checkout.NewService(pool, a.Ledger, a.Stripe, checkout.Config{
		InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 20 * time.Minute, Logger: logger,
	}))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	a.URL = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	// stop may be called more than once: an example stops the authority
	// midway and again on its way out.
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				tb.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			tb.Errorf("Serve did not return after cancel")
		}
	})
	return a, stop
}

func newAuthority(t *testing.T) *authority {
	t.Helper()
	a, stop := startAuthority(t)
	t.Cleanup(stop)
	return a
}

// shop creates a shop no other test uses.
func (a *authority) shop(tb testing.TB) string {
	tb.Helper()
	id := testdb.ShopID(tb)
	if _, err := a.Ledger.CreateShop(context.Background(), id, "Test shop"); err != nil {
		tb.Fatalf("create shop: %v", err)
	}
	return id
}

// stock sets the quantity on hand of a line at the default location,
// through the ledger rather than the client under test.
func (a *authority) stock(tb testing.TB, shopID, sku, variantKey string, onHand int64) {
	tb.Helper()
	_, err := a.Ledger.Adjust(context.Background(), shopID, inventory.AdjustRequest{
		Reference: "fixture",
		Changes:   []inventory.StockChange{{SKU: sku, VariantKey: variantKey, Op: inventory.OpSet, Quantity: onHand}},
	})
	if err != nil {
		tb.Fatalf("stock %s[%s]: %v", sku, variantKey, err)
	}
}

// client returns a client of the authority with the service token.
func (a *authority) client(t *testing.T) *client.Client {
	t.Helper()
	return newClient(t, client.Config{BaseURL: a.URL, Token: a.Token})
}

func newClient(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// fake serves h on a loopback port until the test ends and returns its URL.
func fake(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// respond returns a handler answering every request with status and body.
func respond(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// closedURL returns the URL of a loopback port nothing listens on.
func closedURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		tb.Fatal(err)
	}
	return "http://" + addr
}

// sentinels are the errors an edge worker branches on.
var sentinels = []error{client.ErrUnavailable, client.ErrTimeout, client.ErrAuthentication}

// requireSentinel fails unless err is want and none of the other sentinels,
// and not an *APIError.
func requireSentinel(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v: want errors.Is %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Errorf("error %v: is also %v", err, s)
		}
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		t.Errorf("error %v: is also an *APIError", err)
	}
}

// requireAPIError fails unless err is an *APIError with status and code and
// none of the sentinels, and returns it.
func requireAPIError(t *testing.T, err error, status int, code string) *client.APIError {
	t.Helper()
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v: want *APIError %d %s", err, status, code)
	}
	if apiErr.Status != status || apiErr.Code != code {
		t.Fatalf("APIError %d %q (%v), want %d %q", apiErr.Status, apiErr.Code, err, status, code)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("error %v: is also %v", err, s)
		}
	}
	return apiErr
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	shopID := a.shop(t)
	a.stock(t, shopID, "SKU-123", "size:M", 5)
	a.stock(t, shopID, "SKU-123", "", 1)
	c := a.client(t)

	res, err := c.Validate(ctx, shopID, []client.Line{
		{SKU: "SKU-123", VariantKey: "size:M", Quantity: 5},
		{SKU: "SKU-123", Quantity: 1},
	})
	if err != nil {
		t.Fatalf("Validate in stock: %v", err)
	}
	if !res.OK || len(res.Insufficient) != 0 {
		t.Errorf("Validate in stock = %+v, want OK", res)
	}

	// Repeated lines are summed; an unknown line counts as available 0.
	res, err = c.Validate(ctx, shopID, []client.Line{
		{SKU: "SKU-123", VariantKey: "size:M", Quantity: 3},
		{SKU: "SKU-123", VariantKey: "size:M", Quantity: 3},
		{SKU: "SKU-123", Quantity: 1},
		{SKU: "NEVER-STOCKED", Quantity: 2},
	})
	if err != nil {
		t.Fatalf("Validate short: %v", err)
	}
	want := client.ValidateResult{Insufficient: []client.Shortfall{
		{SKU: "NEVER-STOCKED", VariantKey: "", Requested: 2, Available: 0},
		{SKU: "SKU-123", VariantKey: "size:M", Requested: 6, Available: 5},
	}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("Validate short = %+v, want %+v", res, want)
	}

	// Validate holds nothing.
	info, err := c.StockInfo(ctx, shopID, "SKU-123", "size:M")
	if err != nil {
		t.Fatalf("StockInfo: %v", err)
	}
	if info.Reserved != 0 || info.Available != 5 {
		t.Errorf("after Validate: reserved %d, available %d; want 0, 5", info.Reserved, info.Available)
	}

	_, err = c.Validate(ctx, "t-no-such-shop", []client.Line{{SKU: "SKU-123", Quantity: 1}})
	requireAPIError(t, err, http.StatusNotFound, client.CodeNotFound)

	_, err = c.Validate(ctx, shopID, []client.Line{{SKU: "SKU-123", Quantity: 0}})
	apiErr := requireAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)
	if len(apiErr.Details) != 1 || apiErr.Details[0].Field != "items[0].quantity" {
		t.Errorf("Details = %+v, want one about items[0].quantity", apiErr.Details)
	}
	if !strings.Contains(err.Error(), "items[0].quantity") || !strings.Contains(err.Error(), shopID) {
		t.Errorf("error %q: want the field and the shop named", err)
	}
}

func TestHoldLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	shopID := a.shop(t)
	a.stock(t, shopID, "SKU-123", "size:M", 10)
	c := a.client(t)
	items := []client.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 2}}

	before := time.Now()
	hold, err := c.CreateHold(ctx, shopID, client.HoldRequest{
		Items: items, TTL: 20 * time.Minute, IdempotencyKey: "cart-42", Reference: "cart-42",
	})
	if err != nil {
		t.Fatalf("CreateHold: %v", err)
	}
	if !strings.HasPrefix(hold.ID, "hold_") || hold.ShopID != shopID || hold.Status != client.HoldActive ||
		hold.Reference != "cart-42" || hold.CheckoutSessionID != "" {
		t.Errorf("CreateHold = %+v", hold)
	}
	wantItems := []client.HoldItem{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 2,
		Allocations: []client.Allocation{{LocationID: "default", Quantity: 2}}}}
	if !reflect.DeepEqual(hold.Items, wantItems) {
		t.Errorf("hold items = %+v, want %+v", hold.Items, wantItems)
	}
	if ttl := hold.ExpiresAt.Sub(before); ttl < 19*time.Minute || ttl > 21*time.Minute {
		t.Errorf("hold expires %s after the request, want about 20m", ttl)
	}

	// The same key again is the same hold; with other items, a conflict.
	again, err := c.CreateHold(ctx, shopID, client.HoldRequest{Items: items, TTL: 20 * time.Minute, IdempotencyKey: "cart-42", Reference: "cart-42"})
	if err != nil {
		t.Fatalf("CreateHold replay: %v", err)
	}
	if again.ID != hold.ID {
		t.Errorf("replay placed hold %s, want %s", again.ID, hold.ID)
	}
	_, err = c.CreateHold(ctx, shopID, client.HoldRequest{
		Items: []client.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 3}}, IdempotencyKey: "cart-42",
	})
	requireAPIError(t, err, http.StatusConflict, client.CodeIdempotencyConflict)

	info, err := c.StockInfo(ctx, shopID, "SKU-123", "size:M")
	if err != nil {
		t.Fatalf("StockInfo: %v", err)
	}
	if info.OnHand != 10 || info.Reserved != 2 || info.Available != 8 {
		t.Errorf("held stock = %+v, want on hand 10, reserved 2, available 8", info)
	}

	// More than is left holds nothing and says what is short.
	_, err = c.CreateHold(ctx, shopID, client.HoldRequest{Items: []client.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 9}}})
	apiErr := requireAPIError(t, err, http.StatusConflict, client.CodeInsufficientStock)
	wantShort := []client.Shortfall{{SKU: "SKU-123", VariantKey: "size:M", Requested: 9, Available: 8}}
	if !reflect.DeepEqual(apiErr.Items, wantShort) {
		t.Errorf("insufficient items = %+v, want %+v", apiErr.Items, wantShort)
	}

	got, err := c.GetHold(ctx, shopID, hold.ID)
	if err != nil {
		t.Fatalf("GetHold: %v", err)
	}
	if got.ID != hold.ID || got.Status != client.HoldActive || !got.ExpiresAt.Equal(hold.ExpiresAt) || !reflect.DeepEqual(got.Items, wantItems) {
		t.Errorf("GetHold = %+v, want %+v", got, hold)
	}

	extended, err := c.ExtendHold(ctx, shopID, hold.ID, time.Hour)
	if err != nil {
		t.Fatalf("ExtendHold: %v", err)
	}
	if !extended.ExpiresAt.After(hold.ExpiresAt) {
		t.Errorf("extended hold expires %s, not after %s", extended.ExpiresAt, hold.ExpiresAt)
	}

	committed, err := c.CommitHold(ctx, shopID, hold.ID, "order-123")
	if err != nil {
		t.Fatalf("CommitHold: %v", err)
	}
	if committed.Status != client.HoldCommitted {
		t.Errorf("committed hold status %s", committed.Status)
	}
	// Committing again is harmless.
	if again, err := c.CommitHold(ctx, shopID, hold.ID, "order-123"); err != nil || again.Status != client.HoldCommitted {
		t.Errorf("CommitHold again = %+v, %v; want the committed hold", again, err)
	}
	info, err = c.StockInfo(ctx, shopID, "SKU-123", "size:M")
	if err != nil {
		t.Fatalf("StockInfo: %v", err)
	}
	if info.OnHand != 8 || info.Reserved != 0 {
		t.Errorf("after commit: on hand %d, reserved %d; want 8, 0", info.OnHand, info.Reserved)
	}

	_, err = c.ReleaseHold(ctx, shopID, hold.ID, "cart_abandoned")
	apiErr = requireAPIError(t, err, http.StatusConflict, client.CodeHoldNotActive)
	if apiErr.HoldStatus != client.HoldCommitted {
		t.Errorf("release committed: HoldStatus %q, want committed", apiErr.HoldStatus)
	}
	_, err = c.ExtendHold(ctx, shopID, hold.ID, time.Minute)
	requireAPIError(t, err, http.StatusConflict, client.CodeHoldNotActive)

	// A second hold, released: releasing again is harmless, committing is not.
	second, err := c.CreateHold(ctx, shopID, client.HoldRequest{Items: items}) // server's default TTL
	if err != nil {
		t.Fatalf("CreateHold second: %v", err)
	}
	if ttl := time.Until(second.ExpiresAt); ttl < 19*time.Minute || ttl > 21*time.Minute {
		t.Errorf("default TTL: expires in %s, want about 20m", ttl)
	}
	for range 2 {
		released, err := c.ReleaseHold(ctx, shopID, second.ID, "cart_abandoned")
		if err != nil {
			t.Fatalf("ReleaseHold: %v", err)
		}
		if released.Status != client.HoldReleased {
			t.Errorf("released hold status %s", released.Status)
		}
	}
	_, err = c.CommitHold(ctx, shopID, second.ID, "")
	apiErr = requireAPIError(t, err, http.StatusConflict, client.CodeHoldNotActive)
	if apiErr.HoldStatus != client.HoldReleased {
		t.Errorf("commit released: HoldStatus %q, want released", apiErr.HoldStatus)
	}

	_, err = c.GetHold(ctx, shopID, "hold_doesnotexist")
	requireAPIError(t, err, http.StatusNotFound, client.CodeNotFound)

	_, err = c.CreateHold(ctx, shopID, client.HoldRequest{Items: items, TTL: 48 * time.Hour})
	apiErr = requireAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)
	if len(apiErr.Details) == 0 || apiErr.Details[0].Field != "ttlSeconds" {
		t.Errorf("Details = %+v, want ttlSeconds", apiErr.Details)
	}

	// The ledger tells the story, newest first.
	variant := "size:M"
	page, err := c.Movements(ctx, shopID, client.MovementsOptions{SKU: "SKU-123", VariantKey: &variant, Limit: 3})
	if err != nil {
		t.Fatalf("Movements: %v", err)
	}
	var types []client.MovementType
	for _, m := range page.Items {
		types = append(types, m.Type)
	}
	wantTypes := []client.MovementType{client.MovementRelease, client.MovementReservation, client.MovementSale}
	if !slices.Equal(types, wantTypes) || page.NextCursor == "" {
		t.Errorf("Movements = %v (next %q), want %v and a next page", types, page.NextCursor, wantTypes)
	}
	if page.Items[0].HoldID != second.ID || page.Items[2].HoldID != hold.ID || page.Items[2].Reference != "order-123" {
		t.Errorf("Movements = %+v: want hold ids and the order reference", page.Items)
	}
	rest, err := c.Movements(ctx, shopID, client.MovementsOptions{SKU: "SKU-123", VariantKey: &variant, Cursor: page.NextCursor})
	if err != nil {
		t.Fatalf("Movements next page: %v", err)
	}
	if n := len(rest.Items); n != 2 || rest.NextCursor != "" ||
		rest.Items[0].Type != client.MovementReservation || rest.Items[1].Type != client.MovementAdjustment {
		t.Errorf("Movements next page = %+v, want RESERVATION, ADJUSTMENT and no cursor", rest)
	}
}

func TestStockChangesAndOddSKUs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	shopID := a.shop(t)
	c := a.client(t)

	// SKUs may hold "/", ":" and dots, even be "." or "..": each must stay
	// one path segment.
	skus := []string{"a/b", "..", ".", "x:y.z", "SKU-1"}
	var changes []client.StockChange
	for i, sku := range skus {
		changes = append(changes, client.StockChange{SKU: sku, VariantKey: "size:M", Op: client.OpSet, Quantity: int64(i + 1)})
	}
	res, err := c.Adjust(ctx, shopID, client.AdjustRequest{
		Reference: "count-1", CreatedBy: "ops@example.com", IdempotencyKey: "adj-1", Changes: changes,
	})
	if err != nil {
		t.Fatalf("Adjust: %v", err)
	}
	if res.Applied != len(skus) || len(res.Movements) != len(skus) {
		t.Fatalf("Adjust = %+v, want %d applied", res, len(skus))
	}
	if m := res.Movements[0]; m.Type != client.MovementAdjustment || m.LocationID != "default" || m.Reference != "count-1" || m.CreatedAt.IsZero() {
		t.Errorf("movement = %+v", m)
	}
	replay, err := c.Adjust(ctx, shopID, client.AdjustRequest{
		Reference: "count-1", CreatedBy: "ops@example.com", IdempotencyKey: "adj-1", Changes: changes,
	})
	if err != nil || !reflect.DeepEqual(replay, res) {
		t.Errorf("Adjust replay = %+v, %v; want the first result %+v", replay, err, res)
	}
	_, err = c.Adjust(ctx, shopID, client.AdjustRequest{IdempotencyKey: "adj-1", Changes: changes[:1]})
	requireAPIError(t, err, http.StatusConflict, client.CodeIdempotencyConflict)

	for i, sku := range skus {
		info, err := c.StockInfo(ctx, shopID, sku, "size:M")
		if err != nil {
			t.Errorf("StockInfo %q: %v", sku, err)
			continue
		}
		if info.SKU != sku || info.VariantKey != "size:M" || info.OnHand != int64(i+1) {
			t.Errorf("StockInfo %q = %+v, want on hand %d", sku, info, i+1)
		}
	}
	_, err = c.StockInfo(ctx, shopID, "a/b", "size:L")
	requireAPIError(t, err, http.StatusNotFound, client.CodeNotFound)

	threshold := int64(0)
	info, err := c.UpdateStockSettings(ctx, shopID, "a/b", "size:M", client.StockSettings{LowStockThreshold: &threshold})
	if err != nil {
		t.Fatalf("UpdateStockSettings: %v", err)
	}
	if info.LowStockThreshold != 0 || info.LowStock {
		t.Errorf("UpdateStockSettings = %+v, want threshold 0, not low", info)
	}
	_, err = c.UpdateStockSettings(ctx, shopID, "a/b", "size:M", client.StockSettings{})
	requireAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)

	// Two pages of the lines, then the low ones (threshold 5 by default,
	// "a/b" now 0).
	page, err := c.ListStock(ctx, shopID, client.ListStockOptions{Limit: 3})
	if err != nil {
		t.Fatalf("ListStock: %v", err)
	}
	next, err := c.ListStock(ctx, shopID, client.ListStockOptions{Limit: 3, Cursor: page.NextCursor})
	if err != nil {
		t.Fatalf("ListStock next: %v", err)
	}
	var listed []string
	for _, p := range []*client.StockPage{page, next} {
		for _, it := range p.Items {
			listed = append(listed, it.SKU)
		}
	}
	slices.Sort(listed) // the server orders by its collation
	if want := []string{".", "..", "SKU-1", "a/b", "x:y.z"}; !slices.Equal(listed, want) || len(page.Items) != 3 || next.NextCursor != "" {
		t.Errorf("ListStock = %v (cursors %q, %q), want %v over two pages", listed, page.NextCursor, next.NextCursor, want)
	}
	low, err := c.ListStock(ctx, shopID, client.ListStockOptions{LowStockOnly: true})
	if err != nil {
		t.Fatalf("ListStock low: %v", err)
	}
	if len(low.Items) != 4 || slices.ContainsFunc(low.Items, func(s client.StockInfo) bool { return s.SKU == "a/b" }) {
		t.Errorf("ListStock low = %+v, want every line but a/b", low.Items)
	}

	// Receipts and transfers, and a change below what is reserved.
	if _, err := a.Ledger.AddLocation(ctx, shopID, "backroom", "Backroom", 1); err != nil {
		t.Fatal(err)
	}
	rec, err := c.Receive(ctx, shopID, client.ReceiptRequest{
		PurchaseOrderID: "PO-7", Items: []client.ReceiptItem{{SKU: "SKU-1", VariantKey: "size:M", Quantity: 10}},
	})
	if err != nil || rec.Applied != 1 || rec.Movements[0].Type != client.MovementPurchaseOrder || rec.Movements[0].Reference != "PO-7" {
		t.Errorf("Receive = %+v, %v", rec, err)
	}
	tr, err := c.Transfer(ctx, shopID, client.TransferRequest{
		FromLocationID: "default", ToLocationID: "backroom", Reference: "restock",
		Items: []client.Line{{SKU: "SKU-1", VariantKey: "size:M", Quantity: 4}},
	})
	if err != nil || tr.Applied != 2 {
		t.Fatalf("Transfer = %+v, %v; want 2 applied", tr, err)
	}
	if _, err := c.CreateHold(ctx, shopID, client.HoldRequest{Items: []client.Line{{SKU: "SKU-1", VariantKey: "size:M", Quantity: 7}}}); err != nil {
		t.Fatalf("CreateHold: %v", err)
	}
	_, err = c.Adjust(ctx, shopID, client.AdjustRequest{Changes: []client.StockChange{
		{SKU: "SKU-1", VariantKey: "size:M", Op: client.OpSet, Quantity: 0},
	}})
	apiErr := requireAPIError(t, err, http.StatusConflict, client.CodeStockConflict)
	if apiErr.SKU != "SKU-1" || apiErr.VariantKey != "size:M" || apiErr.LocationID != "default" {
		t.Errorf("stock conflict on %s[%s]@%s, want SKU-1[size:M]@default", apiErr.SKU, apiErr.VariantKey, apiErr.LocationID)
	}
	_, err = c.Transfer(ctx, shopID, client.TransferRequest{
		FromLocationID: "default", ToLocationID: "nowhere", Items: []client.Line{{SKU: "SKU-1", VariantKey: "size:M", Quantity: 1}},
	})
	requireAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)
}

func TestShopKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	own, other := a.shop(t), a.shop(t)
	a.stock(t, own, "SKU-1", "", 3)
	a.stock(t, other, "SKU-1", "", 3)
	token, _, err := a.Keys.Create(ctx, own, "edge")
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, client.Config{BaseURL: a.URL, Token: token})

	if res, err := c.Validate(ctx, own, []client.Line{{SKU: "SKU-1", Quantity: 3}}); err != nil || !res.OK {
		t.Errorf("Validate own shop = %+v, %v; want OK", res, err)
	}
	// Another shop is answered as if it did not exist.
	_, err = c.Validate(ctx, other, []client.Line{{SKU: "SKU-1", Quantity: 3}})
	requireAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
	_, err = c.StockInfo(ctx, other, "SKU-1", "")
	requireAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
	_, err = c.CreateHold(ctx, other, client.HoldRequest{Items: []client.Line{{SKU: "SKU-1", Quantity: 1}}})
	requireAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	items := []client.Line{{SKU: "SKU-1", Quantity: 1}}

	// The real server refuses a wrong token with 401.
	a := newAuthority(t)
	shopID := a.shop(t)
	wrong := newClient(t, client.Config{BaseURL: a.URL, Token: "not-the-token"})
	_, err := wrong.Validate(ctx, shopID, items)
	requireSentinel(t, err, client.ErrAuthentication)
	if strings.Contains(err.Error(), "not-the-token") {
		t.Errorf("error %q shows the token", err)
	}
	_, err = wrong.GetHold(ctx, shopID, "hold_x")
	requireSentinel(t, err, client.ErrAuthentication)
	if !wrong.HealthCheck(ctx) {
		t.Error("HealthCheck with a wrong token = false; health needs no token")
	}

	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		url := fake(t, respond(status, `{"error":"forbidden","message":"no"}`))
		c := newClient(t, client.Config{BaseURL: url, Token: "t"})
		_, err := c.Validate(ctx, "s1", items)
		requireSentinel(t, err, client.ErrAuthentication)
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	items := []client.Line{{SKU: "SKU-1", Quantity: 1}}

	c := newClient(t, client.Config{BaseURL: closedURL(t), Token: "t"})
	_, err := c.Validate(ctx, "s1", items)
	requireSentinel(t, err, client.ErrUnavailable)
	if !strings.Contains(err.Error(), `validate shop "s1"`) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %q: want the operation and the cause", err)
	}
	_, err = c.CommitHold(ctx, "s1", "hold_1", "order-1")
	requireSentinel(t, err, client.ErrUnavailable)

	c = newClient(t, client.Config{BaseURL: "http://inventory.invalid", Token: "t"})
	_, err = c.StockInfo(ctx, "s1", "SKU-1", "")
	requireSentinel(t, err, client.ErrUnavailable)

	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"database down", http.StatusServiceUnavailable, `{"error":"inventory_unavailable","message":"inventory is unavailable"}`},
		{"internal error", http.StatusInternalServerError, `{"error":"internal_error","message":"internal error"}`},
		{"proxy page", http.StatusBadGateway, `<html>Bad gateway</html>`},
		{"gateway timeout", http.StatusGatewayTimeout, ``},
		{"not JSON", http.StatusOK, `<html>Welcome to nginx</html>`},
		{"no ok field", http.StatusOK, `{"items":[]}`},
	} {
		url := fake(t, respond(tc.status, tc.body))
		c := newClient(t, client.Config{BaseURL: url, Token: "t"})
		_, err := c.Validate(ctx, "s1", items)
		if !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("%s: Validate error %v, want ErrUnavailable", tc.name, err)
		}
	}
	url := fake(t, respond(http.StatusServiceUnavailable, `{"error":"inventory_unavailable","message":"inventory is unavailable"}`))
	_, err = newClient(t, client.Config{BaseURL: url, Token: "t"}).CreateHold(ctx, "s1", client.HoldRequest{Items: items})
	requireSentinel(t, err, client.ErrUnavailable)
	if !strings.Contains(err.Error(), "HTTP 503 inventory_unavailable") {
		t.Errorf("error %q: want the status and code", err)
	}
}

// slow answers nothing until the client gives up. It reads the body first:
// the server notices a client hanging up only once the body is consumed.
func slow(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	items := []client.Line{{SKU: "SKU-1", Quantity: 1}}
	url := fake(t, slow)

	c := newClient(t, client.Config{BaseURL: url, Token: "t", Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := c.Validate(ctx, "s1", items)
	requireSentinel(t, err, client.ErrTimeout)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Validate took %s with a 100ms timeout", d)
	}
	if !strings.Contains(err.Error(), "100ms") {
		t.Errorf("error %q: want the timeout named", err)
	}

	// The caller's deadline counts too, when it comes first.
	c = newClient(t, client.Config{BaseURL: url, Token: "t", Timeout: time.Minute})
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = c.GetHold(dctx, "s1", "hold_1")
	requireSentinel(t, err, client.ErrTimeout)

	// So does the Timeout of a caller's own http.Client.
	c = newClient(t, client.Config{BaseURL: url, Token: "t", HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
	_, err = c.Validate(ctx, "s1", items)
	requireSentinel(t, err, client.ErrTimeout)

	// A caller that gives up is neither: nothing is known of the authority.
	c = newClient(t, client.Config{BaseURL: url, Token: "t", Timeout: time.Minute})
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c.Validate(cctx, "s1", items)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Validate error %v, want context.Canceled", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("cancelled Validate error %v is %v", err, s)
		}
	}
}

func TestHealthCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAuthority(t)
	if !a.client(t).HealthCheck(ctx) {
		t.Error("HealthCheck of a running authority = false")
	}
	// The integration guide's URL form works as well.
	if !newClient(t, client.Config{BaseURL: a.URL + "/api/inventory/", Token: "t"}).HealthCheck(ctx) {
		t.Error("HealthCheck via .../api/inventory/ = false")
	}

	var sawToken bool
	var mu sync.Mutex
	okURL := fake(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sawToken = sawToken || r.Header.Get("Authorization") != ""
		mu.Unlock()
		if r.URL.Path != "/api/inventory/health" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		respond(http.StatusOK, `{"status":"ok"}`)(w, r)
	})
	if !newClient(t, client.Config{BaseURL: okURL, Token: "secret"}).HealthCheck(ctx) {
		t.Error("HealthCheck of a 200 = false")
	}
	mu.Lock()
	if sawToken {
		t.Error("HealthCheck sent the token")
	}
	mu.Unlock()

	for name, url := range map[string]string{
		"down":        closedURL(t),
		"unavailable": fake(t, respond(http.StatusServiceUnavailable, `{"status":"unavailable"}`)),
		"no content":  fake(t, respond(http.StatusNoContent, ``)),
		"slow":        fake(t, slow),
	} {
		c := newClient(t, client.Config{BaseURL: url, Token: "t", Timeout: 100 * time.Millisecond})
		start := time.Now()
		if c.HealthCheck(ctx) {
			t.Errorf("HealthCheck %s = true", name)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("HealthCheck %s took %s with a 100ms timeout", name, d)
		}
	}
}

func TestAPIErrorBodies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hold := client.HoldRequest{Items: []client.Line{{SKU: "SKU-1", Quantity: 1}}}

	busy := fake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		respond(http.StatusTooManyRequests, `{"error":"inventory_busy","message":"inventory is busy, retry later","retryAfter":1500}`)(w, r)
	})
	_, err := newClient(t, client.Config{BaseURL: busy, Token: "t"}).CreateHold(ctx, "s1", hold)
	apiErr := requireAPIError(t, err, http.StatusTooManyRequests, client.CodeInventoryBusy)
	if apiErr.RetryAfter != 1500*time.Millisecond {
		t.Errorf("RetryAfter = %s, want the body's 1.5s", apiErr.RetryAfter)
	}

	rateLimited := fake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		respond(http.StatusTooManyRequests, `{"error":"rate_limited","message":"this shop's request budget is spent, retry later","retryAfter":250}`)(w, r)
	})
	_, err = newClient(t, client.Config{BaseURL: rateLimited, Token: "t"}).CreateHold(ctx, "s1", hold)
	apiErr = requireAPIError(t, err, http.StatusTooManyRequests, client.CodeRateLimited)
	if apiErr.RetryAfter != 250*time.Millisecond {
		t.Errorf("RetryAfter = %s, want the body's 250ms", apiErr.RetryAfter)
	}

	// A proxy's rate limit: no contract body, the header still counts.
	limited := fake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "<html>slow down</html>")
	})
	_, err = newClient(t, client.Config{BaseURL: limited, Token: "t"}).CreateHold(ctx, "s1", hold)
	apiErr = requireAPIError(t, err, http.StatusTooManyRequests, "")
	if apiErr.RetryAfter != 3*time.Second || apiErr.Message != "Too Many Requests" {
		t.Errorf("proxy 429 = %+v, want RetryAfter 3s and the status text", apiErr)
	}

	// Redirects are not followed: a POST must not become a GET elsewhere.
	var followed bool
	var mu sync.Mutex
	redirect := fake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			mu.Lock()
			followed = true
			mu.Unlock()
		}
		http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
	})
	_, err = newClient(t, client.Config{BaseURL: redirect, Token: "t"}).Validate(ctx, "s1", hold.Items)
	apiErr = requireAPIError(t, err, http.StatusMovedPermanently, "")
	if !strings.Contains(apiErr.Message, "/elsewhere") {
		t.Errorf("redirect message %q: want the target", apiErr.Message)
	}
	mu.Lock()
	if followed {
		t.Error("the redirect was followed")
	}
	mu.Unlock()
}

// request is what a recording fake received.
type request struct {
	Method, Path, RawQuery, Auth, ContentType string
	Body                                      map[string]any
}

// recorder answers every request with status and body and keeps what it
// received.
type recorder struct {
	mu   sync.Mutex
	reqs []request
}

func (rec *recorder) handler(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got := request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type")}
		if data, _ := io.ReadAll(r.Body); len(data) > 0 {
			_ = json.Unmarshal(data, &got.Body)
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, got)
		rec.mu.Unlock()
		respond(status, body)(w, r)
	}
}

func (rec *recorder) last(t *testing.T) request {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) == 0 {
		t.Fatal("no request received")
	}
	return rec.reqs[len(rec.reqs)-1]
}

func TestRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var rec recorder
	url := fake(t, rec.handler(http.StatusOK, `{"ok":true,"id":"hold_1"}`))
	c := newClient(t, client.Config{BaseURL: url + "/prefix/api/inventory/", Token: "tok"})

	check := func(name string, err error, method, path, query string, body map[string]any) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		got := rec.last(t)
		want := request{Method: method, Path: "/prefix/api/inventory" + path, RawQuery: query, Auth: "Bearer tok", Body: body}
		if body != nil {
			want.ContentType = "application/json"
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s sent %+v, want %+v", name, got, want)
		}
	}
	lines := []client.Line{{SKU: "a/b", VariantKey: "size:M", Quantity: 2}}
	wireLines := []any{map[string]any{"sku": "a/b", "variantKey": "size:M", "quantity": 2.0}}

	_, err := c.Validate(ctx, "s1", lines)
	check("Validate", err, "POST", "/validate", "", map[string]any{"shopId": "s1", "items": wireLines})
	_, err = c.StockInfo(ctx, "s1", "a/b", "size:M,color:red")
	check("StockInfo", err, "GET", "/shops/s1/stock/a%2Fb", "variantKey=size%3AM%2Ccolor%3Ared", nil)
	_, err = c.StockInfo(ctx, "s1", "..", "")
	check("StockInfo ..", err, "GET", "/shops/s1/stock/%2E%2E", "", nil)
	_, err = c.ListStock(ctx, "s1", client.ListStockOptions{LowStockOnly: true, Limit: 10, Cursor: "c/1"})
	check("ListStock", err, "GET", "/shops/s1/stock", "cursor=c%2F1&limit=10&lowStock=true", nil)
	_, err = c.CreateHold(ctx, "s1", client.HoldRequest{Items: lines, TTL: 20 * time.Minute, IdempotencyKey: "cart-42", Reference: "cart-42"})
	check("CreateHold", err, "POST", "/shops/s1/holds", "", map[string]any{
		"items": wireLines, "ttlSeconds": 1200.0, "idempotencyKey": "cart-42", "reference": "cart-42"})
	_, err = c.CreateHold(ctx, "s1", client.HoldRequest{Items: lines})
	check("CreateHold default TTL", err, "POST", "/shops/s1/holds", "", map[string]any{"items": wireLines})
	_, err = c.GetHold(ctx, "s1", "hold_1")
	check("GetHold", err, "GET", "/shops/s1/holds/hold_1", "", nil)
	_, err = c.CommitHold(ctx, "s1", "hold_1", "order-123")
	check("CommitHold", err, "POST", "/shops/s1/holds/hold_1/commit", "", map[string]any{"reference": "order-123"})
	_, err = c.ReleaseHold(ctx, "s1", "hold_1", "")
	check("ReleaseHold", err, "POST", "/shops/s1/holds/hold_1/release", "", map[string]any{})
	_, err = c.ExtendHold(ctx, "s1", "hold_1", 10*time.Minute)
	check("ExtendHold", err, "POST", "/shops/s1/holds/hold_1/extend", "", map[string]any{"ttlSeconds": 600.0})
	empty := ""
	_, err = c.Movements(ctx, "s1", client.MovementsOptions{SKU: "a/b", VariantKey: &empty})
	check("Movements", err, "GET", "/shops/s1/movements", "sku=a%2Fb&variantKey=", nil)

	// Mistakes caught before sending.
	for name, call := range map[string]func() error{
		"empty shop": func() error { _, err := c.GetHold(ctx, "", "hold_1"); return err },
		"empty hold": func() error { _, err := c.CommitHold(ctx, "s1", "", ""); return err },
		"empty sku":  func() error { _, err := c.StockInfo(ctx, "s1", "", ""); return err },
		"fractional TTL": func() error {
			_, err := c.CreateHold(ctx, "s1", client.HoldRequest{Items: lines, TTL: 1500 * time.Millisecond})
			return err
		},
		"negative TTL": func() error {
			_, err := c.CreateHold(ctx, "s1", client.HoldRequest{Items: lines, TTL: -time.Second})
			return err
		},
		"zero extend TTL": func() error { _, err := c.ExtendHold(ctx, "s1", "hold_1", 0); return err },
	} {
		rec.mu.Lock()
		before := len(rec.reqs)
		rec.mu.Unlock()
		err := call()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				t.Errorf("%s: error %v is %v", name, err, s)
			}
		}
		rec.mu.Lock()
		if len(rec.reqs) != before {
			t.Errorf("%s: a request was sent", name)
		}
		rec.mu.Unlock()
	}
}

func TestBaseURLForms(t *testing.T) {
	t.Parallel()
	var rec recorder
	url := fake(t, rec.handler(http.StatusOK, `{"ok":true}`))
	for _, base := range []string{url, url + "/", url + "/api/inventory", url + "/api/inventory/"} {
		c := newClient(t, client.Config{BaseURL: base, Token: "t"})
		if _, err := c.Validate(context.Background(), "s1", nil); err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		if got := rec.last(t).Path; got != "/api/inventory/validate" {
			t.Errorf("BaseURL %s: requested %s, want /api/inventory/validate", base, got)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  client.Config
		want string
	}{
		{"no URL", client.Config{Token: "t"}, "BaseURL: is empty"},
		{"no scheme", client.Config{BaseURL: "cms.example.com", Token: "t"}, "scheme must be http or https"},
		{"ftp", client.Config{BaseURL: "ftp://cms.example.com", Token: "t"}, "scheme must be http or https"},
		{"no host", client.Config{BaseURL: "https://", Token: "t"}, "has no host"},
		{"query", client.Config{BaseURL: "https://cms.example.com/?x=1", Token: "t"}, "query"},
		{"user info", client.Config{BaseURL: "https://u:pw@cms.example.com", Token: "t"}, "user info"},
		{"no token", client.Config{BaseURL: "https://cms.example.com"}, "Token: is empty"},
		{"token with newline", client.Config{BaseURL: "https://cms.example.com", Token: "secret\n"}, "Token: contains whitespace"},
		{"negative timeout", client.Config{BaseURL: "https://cms.example.com", Token: "t", Timeout: -time.Second}, "Timeout is -1s"},
	} {
		_, err := client.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New error %v, want one containing %q", tc.name, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), ":pw@")) {
			t.Errorf("%s: error %q shows a secret", tc.name, err)
		}
	}
	if _, err := client.New(client.Config{BaseURL: "https://cms.example.com/api/inventory", Token: "t"}); err != nil {
		t.Errorf("New with the guide's URL: %v", err)
	}
}

func TestConfigFromLookup(t *testing.T) {
	t.Parallel()
	lookup := func(env map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	}

	cfg, err := client.ConfigFromLookup(lookup(map[string]string{
		client.EnvURL:   " https://cms.example.com/api/inventory ",
		client.EnvToken: "secret-token",
	}))
	if err != nil {
		t.Fatalf("ConfigFromLookup: %v", err)
	}
	want := client.Config{BaseURL: "https://cms.example.com/api/inventory", Token: "secret-token", Timeout: 5 * time.Second}
	if cfg != want {
		t.Errorf("ConfigFromLookup = %+v, want %+v", cfg, want)
	}

	cfg, err = client.ConfigFromLookup(lookup(map[string]string{
		client.EnvURL: "http://127.0.0.1:8080", client.EnvToken: "t", client.EnvTimeout: "250",
	}))
	if err != nil || cfg.Timeout != 250*time.Millisecond {
		t.Errorf("timeout 250 = %s, %v; want 250ms", cfg.Timeout, err)
	}

	_, err = client.ConfigFromLookup(lookup(nil))
	if err == nil || !strings.Contains(err.Error(), "INVENTORY_AUTHORITY_URL is not set") ||
		!strings.Contains(err.Error(), "INVENTORY_AUTHORITY_TOKEN is not set") {
		t.Errorf("empty environment: error %v, want both variables named", err)
	}
	_, err = client.ConfigFromLookup(lookup(map[string]string{client.EnvURL: "cms.example.com/api/inventory", client.EnvToken: "secret token"}))
	if err == nil || !strings.Contains(err.Error(), "INVENTORY_AUTHORITY_URL") || !strings.Contains(err.Error(), "INVENTORY_AUTHORITY_TOKEN") ||
		strings.Contains(err.Error(), "secret") {
		t.Errorf("bad URL and token: error %v, want both variables named and no token", err)
	}

	for _, v := range []string{"5s", "0", "-1", "1.5", "3600001", "99999999999999999999"} {
		_, err := client.ConfigFromLookup(lookup(map[string]string{
			client.EnvURL: "https://cms.example.com", client.EnvToken: "t", client.EnvTimeout: v,
		}))
		if err == nil || !strings.Contains(err.Error(), "INVENTORY_AUTHORITY_TIMEOUT="+`"`+v+`"`) {
			t.Errorf("timeout %q: error %v, want the variable and value named", v, err)
		}
	}
}

// TestConfigFromEnv is not parallel: it sets the process environment, which
// t.Setenv forbids in parallel tests. ConfigFromLookup covers the parsing.
func TestConfigFromEnv(t *testing.T) {
	t.Setenv(client.EnvURL, "https://cms.example.com/api/inventory")
	t.Setenv(client.EnvToken, "env-token")
	t.Setenv(client.EnvTimeout, "1500")
	cfg, err := client.ConfigFromEnv()
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	want := client.Config{BaseURL: "https://cms.example.com/api/inventory", Token: "env-token", Timeout: 1500 * time.Millisecond}
	if cfg != want {
		t.Errorf("ConfigFromEnv = %+v, want %+v", cfg, want)
	}
}

// TestTypesMatchServer keeps the client's types in step with the server's:
// each pair must carry the same JSON field names.
func TestTypesMatchServer(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]any{
		{client.Line{}, inventory.Line{}},
		{client.Shortfall{}, inventory.Shortfall{}},
		{client.ValidateResult{}, inventory.ValidateResult{}},
		{client.StockInfo{}, inventory.StockInfo{}},
		{client.LocationStock{}, inventory.LocationStock{}},
		{client.StockPage{}, inventory.StockPage{}},
		{client.StockSettings{}, inventory.StockSettings{}},
		{client.Hold{}, inventory.Hold{}},
		{client.HoldItem{}, inventory.HoldItem{}},
		{client.Allocation{}, inventory.Allocation{}},
		{client.StockChange{}, inventory.StockChange{}},
		{client.StaleCount{}, inventory.StaleCount{}},
		{client.LimitBreach{}, inventory.LimitBreach{}},
		{client.AdjustRequest{}, inventory.AdjustRequest{}},
		{client.ReceiptItem{}, inventory.ReceiptItem{}},
		{client.ReceiptRequest{}, inventory.ReceiptRequest{}},
		{client.TransferRequest{}, inventory.TransferRequest{}},
		{client.ChangeResult{}, inventory.ChangeResult{}},
		{client.Movement{}, inventory.Movement{}},
		{client.MovementPage{}, inventory.MovementPage{}},
		{client.Return{}, inventory.Return{}},
		{client.ReturnItem{}, inventory.ReturnItem{}},
		{client.Rental{}, inventory.Rental{}},
		{client.RentalItem{}, inventory.RentalItem{}},
		{client.RentalPage{}, inventory.RentalPage{}},
		{client.FieldIssue{}, checkoutd.FieldIssue{}},
		{client.CheckoutRequest{}, checkout.Request{}},
		{client.CheckoutItem{}, checkout.Item{}},
		{client.AdjustableQuantity{}, checkout.AdjustableQuantity{}},
		{client.Discount{}, checkout.Discount{}},
		{client.ShippingAddressCollection{}, checkout.ShippingAddressCollection{}},
		{client.Toggle{}, checkout.Toggle{}},
		{client.CheckoutSession{}, checkout.Session{}},
	} {
		got, want := jsonNames(reflect.TypeOf(pair[0])), jsonNames(reflect.TypeOf(pair[1]))
		if !slices.Equal(got, want) {
			t.Errorf("%T has JSON fields %v, %T has %v", pair[0], got, pair[1], want)
		}
	}
	for _, pair := range [][2]string{
		{string(client.HoldActive), string(inventory.HoldActive)},
		{string(client.HoldPendingPayment), string(inventory.HoldPendingPayment)},
		{string(client.HoldExpiring), string(inventory.HoldExpiring)},
		{string(client.HoldCommitted), string(inventory.HoldCommitted)},
		{string(client.HoldReleased), string(inventory.HoldReleased)},
		{string(client.HoldExpired), string(inventory.HoldExpired)},
		{string(client.OpSet), string(inventory.OpSet)},
		{string(client.OpIncrement), string(inventory.OpIncrement)},
		{string(client.OpDecrement), string(inventory.OpDecrement)},
		{string(client.MovementPurchaseOrder), string(inventory.MovementPurchaseOrder)},
		{string(client.MovementSale), string(inventory.MovementSale)},
		{string(client.MovementReturn), string(inventory.MovementReturn)},
		{string(client.MovementAdjustment), string(inventory.MovementAdjustment)},
		{string(client.MovementReservation), string(inventory.MovementReservation)},
		{string(client.MovementRelease), string(inventory.MovementRelease)},
		{string(client.MovementDamage), string(inventory.MovementDamage)},
		{string(client.MovementTransfer), string(inventory.MovementTransfer)},
	} {
		if pair[0] != pair[1] {
			t.Errorf("client constant %q, server %q", pair[0], pair[1])
		}
	}
}

// jsonNames returns the sorted JSON names of t's encoded fields.
func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
