// Package availability is the storefront's view of stock: what a browser
// may see of a shop's lines (Item), read on request (Reader) or followed
// live (Feed).
//
// An Item is public: encoded as JSON it carries the SKU, the variant key,
// the available quantity, the low-stock flag and whether backorders are
// allowed, and nothing else. On-hand and reserved travel inside it unseen;
// only Item.Private hands them out, for the shop's own authenticated stream.
//
// The Feed follows every shop's stock changes through inventory's change
// log (inventory.Ledger.StockChangesSince) with one reader per process, and
// fans each changed line's new state out in memory to every subscriber that
// watches it. docs/availability.md says why it reads a log instead of
// listening for NOTIFY.
package availability
