// Package inventory is the stock ledger: how many units of each line a shop
// has, where, how many are held for checkouts in flight, and every movement
// that got them there.
//
// Correctness lives in PostgreSQL. Every operation that changes stock is one
// statement or one transaction that changes the stock rows, writes the
// movement ledger and moves holds through their states together. Stock rows
// are always locked in (shop, sku, variant key, location) order, so
// concurrent operations never deadlock, and CHECK constraints make it
// impossible for any code path to reserve more than a row has (plus its
// backorder limit).
//
// A hold whose expiry has passed stops counting as reserved at once: reads go
// through a view that discounts it, commits refuse it, and a hold request that
// finds lapsed holds in its way closes them itself before trying again. The
// reaper (ExpireDue) tidies up the rest.
package inventory
