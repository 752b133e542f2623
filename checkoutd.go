// Package checkoutd is the vocabulary every layer of checkoutd shares: what
// a request may say (identifiers and their rules), how a malformed one is
// answered (ValidationError with one FieldIssue per wrong field), the errors
// that mean the same thing wherever they arise (ErrShopNotFound), and the
// inventory modes a checkout runs in.
//
// It is the leaf of the module's import graph, in the manner of River's
// rivertype: it imports nothing of checkoutd's, so the domain packages
// (inventory, checkout, webhooks, alerts), the plumbing under internal/, the
// HTTP layer (httpapi) and the binary (cmd/checkoutd) can all use it without
// reaching into one another.
package checkoutd

import "errors"

// ErrShopNotFound is returned for an operation on a shop that does not exist,
// whichever package was asked: the ledger, the API key store or the lists of
// alerts and oversold orders.
var ErrShopNotFound = errors.New("shop not found")

// InventoryMode says what a checkout does with stock when an order is placed
// (INVENTORY_MODE).
type InventoryMode string

const (
	// ModeValidateOnly checks that stock is available at checkout without
	// holding it.
	ModeValidateOnly InventoryMode = "validate_only"
	// ModeReserveTTL holds stock for a checkout until it is paid or the hold
	// expires after the hold TTL.
	ModeReserveTTL InventoryMode = "reserve_ttl"
)
