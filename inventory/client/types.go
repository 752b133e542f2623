package client

import "time"

// Line asks for a quantity of one stock line, identified within its shop by
// SKU and VariantKey ("" for the product itself, or an opaque key such as
// "size:M"). Lines naming the same stock line in one request are summed.
type Line struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	// Quantity is 1 to 1,000,000.
	Quantity int64 `json:"quantity"`
}

// Shortfall is a stock line that cannot be had in the quantity requested. A
// line the shop has never stocked has Available 0.
type Shortfall struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Requested  int64  `json:"requested"`
	Available  int64  `json:"available"`
}

// ValidateResult says whether every line could be held right now. When OK
// is false, Insufficient lists the lines that fall short.
type ValidateResult struct {
	OK           bool        `json:"ok"`
	Insufficient []Shortfall `json:"insufficient"`
}

// StockInfo is a stock line's position across the shop's locations.
// Available is OnHand - Reserved - SafetyStock, never below 0; LowStock is
// Available <= LowStockThreshold.
type StockInfo struct {
	SKU               string `json:"sku"`
	VariantKey        string `json:"variantKey"`
	OnHand            int64  `json:"onHand"`
	Reserved          int64  `json:"reserved"`
	Available         int64  `json:"available"`
	SafetyStock       int64  `json:"safetyStock"`
	LowStockThreshold int64  `json:"lowStockThreshold"`
	LowStock          bool   `json:"lowStock"`
	BackorderAllowed  bool   `json:"backorderAllowed"`
	BackorderLimit    int64  `json:"backorderLimit"`
	// MaxPerOrder and MaxPerCustomer are the line's purchase limits, 0
	// for none.
	MaxPerOrder    int64           `json:"maxPerOrder"`
	MaxPerCustomer int64           `json:"maxPerCustomer"`
	Locations      []LocationStock `json:"locations"`
}

// LocationStock is a stock line's position at one location.
type LocationStock struct {
	LocationID string `json:"locationId"`
	OnHand     int64  `json:"onHand"`
	Reserved   int64  `json:"reserved"`
	Available  int64  `json:"available"`
}

// ListStockOptions selects a page of stock lines for ListStock.
type ListStockOptions struct {
	// LowStockOnly keeps the lines whose LowStock is true.
	LowStockOnly bool
	// Limit is the page size, 1 to 500; 0 means the server's default (100).
	Limit int
	// Cursor is the previous page's NextCursor; "" asks for the first page.
	Cursor string
}

// StockPage is a page of stock lines in (SKU, VariantKey) order.
type StockPage struct {
	Items []StockInfo `json:"items"`
	// NextCursor fetches the next page; "" on the last page.
	NextCursor string `json:"nextCursor"`
}

// StockSettings changes a stock line's settings with UpdateStockSettings;
// nil fields are left as they are, and at least one must be set.
type StockSettings struct {
	LowStockThreshold *int64 `json:"lowStockThreshold,omitempty"`
	SafetyStock       *int64 `json:"safetyStock,omitempty"`
	// BackorderLimit is how many units holds may promise beyond what is on
	// hand; above 0, the line allows backorders.
	BackorderLimit *int64 `json:"backorderLimit,omitempty"`
	// MaxPerOrder is the most units of the line one hold may ask for;
	// MaxPerCustomer the most one customer (HoldRequest.CustomerKey) may
	// hold or buy within the server's PURCHASE_LIMIT_WINDOW. 0 is no limit.
	MaxPerOrder    *int64 `json:"maxPerOrder,omitempty"`
	MaxPerCustomer *int64 `json:"maxPerCustomer,omitempty"`
}

// HoldStatus is where a hold is in its life. Active, pending_payment and
// expiring holds hold stock; the other three are final.
type HoldStatus string

// The statuses of a hold.
const (
	HoldActive         HoldStatus = "active"
	HoldPendingPayment HoldStatus = "pending_payment"
	// HoldExpiring is a checkout's hold past its expiry whose stock stays
	// held until Stripe closes its Checkout Session.
	HoldExpiring  HoldStatus = "expiring"
	HoldCommitted HoldStatus = "committed"
	HoldReleased  HoldStatus = "released"
	HoldExpired   HoldStatus = "expired"
)

// HoldRequest asks CreateHold for a hold on every line of Items, or none.
type HoldRequest struct {
	// Items are the lines to hold: 1 to 100.
	Items []Line
	// TTL is how long the hold lasts unless committed or released: whole
	// seconds from 1s to 24h. Zero means the server's default
	// (INVENTORY_HOLD_TTL_SECONDS).
	TTL time.Duration
	// IdempotencyKey, when set, makes a repeat of the request return the
	// first hold instead of placing another, so a timed-out CreateHold can
	// be retried safely. Reusing it with other items is an
	// idempotency_conflict.
	IdempotencyKey string
	// Reference is free text kept with the hold, such as a cart id.
	Reference string
	// CustomerKey names the buyer in the shop's own terms (an account id,
	// a hash of the email), 1 to 128 printable characters; lines with a
	// MaxPerCustomer need it. The server keeps only a hash of it.
	CustomerKey string
}

// LimitBreach is a line over a purchase limit, in an APIError with
// CodeLimitExceeded.
type LimitBreach struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Requested  int64  `json:"requested"`
	Limit      int64  `json:"limit"`
	// Kind is "per_order" or "per_customer".
	Kind string `json:"kind"`
	// Remaining, for "per_customer", is how many more units the customer
	// may hold of the line now.
	Remaining *int64 `json:"remaining,omitempty"`
}

// Hold is stock set aside for a checkout until it is committed (sold),
// released, or expires.
type Hold struct {
	ID     string     `json:"id"`
	ShopID string     `json:"shopId"`
	Status HoldStatus `json:"status"`
	// ExpiresAt is when the hold stops holding stock unless committed. Past
	// it, the hold is expired whatever Status the reaper has written yet,
	// or, with a checkout session, expiring.
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedAt time.Time `json:"createdAt"`
	// CheckoutSessionID is the checkout session that placed the hold; ""
	// if none did.
	CheckoutSessionID string `json:"checkoutSessionId"`
	// CheckoutSessionExpiresAt is when that session expires (Stripe closes
	// its page then); nil without one. An expiring hold keeps its stock
	// until Stripe closes the session, at the latest 5 minutes after this.
	CheckoutSessionExpiresAt *time.Time `json:"checkoutSessionExpiresAt"`
	Reference                string     `json:"reference"`
	Items                    []HoldItem `json:"items"`
}

// HoldItem is one line of a hold and the locations its units were taken
// from.
type HoldItem struct {
	SKU         string       `json:"sku"`
	VariantKey  string       `json:"variantKey"`
	Quantity    int64        `json:"quantity"`
	Allocations []Allocation `json:"allocations"`
}

// Allocation is the part of a hold line taken from one location.
// Backordered units are promised beyond what the location has on hand.
type Allocation struct {
	LocationID  string `json:"locationId"`
	Quantity    int64  `json:"quantity"`
	Backordered int64  `json:"backordered"`
}

// Op is how a StockChange moves the quantity on hand.
type Op string

// The stock change operations.
const (
	OpSet       Op = "set"       // on hand becomes Quantity (which may be 0)
	OpIncrement Op = "increment" // on hand grows by Quantity
	OpDecrement Op = "decrement" // on hand shrinks by Quantity
)

// MovementType classifies a movement in the stock ledger.
type MovementType string

// The movement types.
const (
	MovementPurchaseOrder MovementType = "PURCHASE_ORDER"
	MovementSale          MovementType = "SALE"
	MovementReturn        MovementType = "RETURN"
	MovementAdjustment    MovementType = "ADJUSTMENT"
	MovementReservation   MovementType = "RESERVATION"
	MovementRelease       MovementType = "RELEASE"
	MovementDamage        MovementType = "DAMAGE"
	MovementTransfer      MovementType = "TRANSFER"
)

// StockChange changes the quantity on hand of one line at one location.
type StockChange struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	// LocationID defaults to "default", the location every shop has.
	LocationID string `json:"locationId,omitempty"`
	Op         Op     `json:"op"`
	// Quantity is 1 to 1,000,000; OpSet also accepts 0.
	Quantity int64 `json:"quantity"`
	// Type is MovementAdjustment (the default), MovementPurchaseOrder,
	// MovementReturn or MovementDamage.
	Type  MovementType `json:"type,omitempty"`
	Notes string       `json:"notes,omitempty"`
	// ExpectedOnHand, with OpSet only, is the on hand the count started
	// from: if the location has another when the set runs, Adjust fails
	// with CodeStaleCount and nothing is written, so a sale made after the
	// count is never overwritten.
	ExpectedOnHand *int64 `json:"expectedOnHand,omitempty"`
}

// StaleCount is a set whose ExpectedOnHand was not what its location had
// on hand when the set ran.
type StaleCount struct {
	SKU            string `json:"sku"`
	VariantKey     string `json:"variantKey"`
	LocationID     string `json:"locationId"`
	ExpectedOnHand int64  `json:"expectedOnHand"`
	OnHand         int64  `json:"onHand"`
}

// AdjustRequest is a batch of stock changes that Adjust applies all
// together or not at all.
type AdjustRequest struct {
	Reference string `json:"reference,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
	// IdempotencyKey, when set, makes a repeat of the same request return
	// the first result; reusing it with another request is an
	// idempotency_conflict.
	IdempotencyKey string        `json:"idempotencyKey,omitempty"`
	Changes        []StockChange `json:"changes"`
}

// ReceiptItem is stock received into a location.
type ReceiptItem struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	// LocationID defaults to "default".
	LocationID string `json:"locationId,omitempty"`
	Quantity   int64  `json:"quantity"`
}

// ReceiptRequest books the arrival of a purchase order with Receive.
type ReceiptRequest struct {
	PurchaseOrderID string        `json:"purchaseOrderId"`
	Items           []ReceiptItem `json:"items"`
	CreatedBy       string        `json:"createdBy,omitempty"`
	// IdempotencyKey makes a retried receipt safe, as in AdjustRequest.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// TransferRequest moves stock between two of a shop's locations with
// Transfer.
type TransferRequest struct {
	FromLocationID string `json:"fromLocationId"`
	ToLocationID   string `json:"toLocationId"`
	Reference      string `json:"reference,omitempty"`
	Items          []Line `json:"items"`
	CreatedBy      string `json:"createdBy,omitempty"`
	// IdempotencyKey makes a retried transfer safe, as in AdjustRequest.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// ChangeResult is what a batch of stock changes did: how many changes were
// applied and the movements they wrote.
type ChangeResult struct {
	Applied   int        `json:"applied"`
	Movements []Movement `json:"movements"`
}

// Movement is one entry of the append-only stock ledger. Quantity is the
// signed change to on hand, except for RESERVATION and RELEASE, where it is
// the signed change to reserved.
type Movement struct {
	ID         string       `json:"id"`
	SKU        string       `json:"sku"`
	VariantKey string       `json:"variantKey"`
	LocationID string       `json:"locationId"`
	Type       MovementType `json:"type"`
	Quantity   int64        `json:"quantity"`
	Reference  string       `json:"reference"`
	Notes      string       `json:"notes"`
	CreatedBy  string       `json:"createdBy"`
	// HoldID is the hold a RESERVATION, RELEASE or SALE belongs to; "" for
	// other movements.
	HoldID    string    `json:"holdId"`
	CreatedAt time.Time `json:"createdAt"`
}

// MovementsOptions selects a page of the ledger for Movements.
type MovementsOptions struct {
	// SKU, when set, keeps that SKU's movements.
	SKU string
	// VariantKey, when not nil, keeps that variant's movements; it needs
	// SKU. A pointer because "" is a variant key of its own.
	VariantKey *string
	// Limit is the page size, 1 to 500; 0 means the server's default (100).
	Limit int
	// Cursor is the previous page's NextCursor; "" asks for the first page.
	Cursor string
}

// MovementPage is a page of the ledger, newest first.
type MovementPage struct {
	Items []Movement `json:"items"`
	// NextCursor fetches the next page; "" on the last page.
	NextCursor string `json:"nextCursor"`
}

// FieldIssue names one thing wrong with a request: the field's path as the
// API spells it (for example "items[2].quantity") and what is wrong with it.
type FieldIssue struct {
	Field string `json:"field"`
	Issue string `json:"issue"`
}
