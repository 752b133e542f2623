// Package testkit is what the test packages share instead of rebuilding it
// each: the one fake Stripe (Checkout Sessions and Refunds) that behaves like
// Stripe where checkoutd relies on it, a log sink safe for concurrent
// writers, and a TCP proxy that stands in for the network path to the
// database so that a test can take the database away.
//
// It is imported only by _test files. Like the rest of internal/ it imports
// no domain package: the shop fixture and the ledger assertions, which need
// inventory, are in inventory/inventorytest (River splits its kit the same
// way: rivershared/testfactory knows no driver, riverdbtest does).
package testkit
