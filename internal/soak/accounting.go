package soak

import (
	"fmt"
	"maps"
	"sort"
	"strings"
)

// Acks is what the service acknowledged with a 2xx, as the clients saw it.
// After the drain, Account compares it with the database.
type Acks struct {
	// Checkouts are the checkout sessions created, by idempotency key.
	Checkouts map[string]AckedCheckout
	// Holds are the holds placed through the holds API, by hold id.
	Holds map[string]AckedHold
	// Adjustments are the stock adjustments applied, by idempotency key.
	Adjustments map[string]Adjustment
	// Unacked are the adjustments the clients gave up on: each applied at
	// most once.
	Unacked map[string]Adjustment
	// PaidEvents are the checkout.session.completed (paid) events the
	// webhook endpoint acknowledged: event id to session id.
	PaidEvents map[string]string
	// ExpiredEvents are the checkout.session.expired events acknowledged.
	ExpiredEvents map[string]string
}

// AckedCheckout is a checkout session the service created.
type AckedCheckout struct {
	Key       string
	SessionID string
	HoldID    string
}

// AckedHold is a hold placed through the holds API.
type AckedHold struct {
	ID  string
	Key string
	// Committed is set once a commit of the hold was acknowledged.
	Committed bool
}

// Adjustment is one stock adjustment: one change, whose movement carries
// the idempotency key as its reference.
type Adjustment struct {
	Key      string
	SKU      string
	Quantity int64
}

// NewAcks returns an empty Acks.
func NewAcks() *Acks {
	return &Acks{
		Checkouts: map[string]AckedCheckout{}, Holds: map[string]AckedHold{},
		Adjustments: map[string]Adjustment{}, Unacked: map[string]Adjustment{},
		PaidEvents: map[string]string{}, ExpiredEvents: map[string]string{},
	}
}

// Snapshot is the part of the database Account compares the
// acknowledgements with, read after the drain.
type Snapshot struct {
	// Checkouts by idempotency key.
	Checkouts map[string]CheckoutRow
	// Holds by id.
	Holds map[string]HoldRow
	// Sales are the SALE movements by hold id; Allocations the hold's
	// allocations. A commit of a hold placed through the holds API writes
	// one SALE movement per allocation.
	Sales       map[string]Units
	Allocations map[string]Units
	// SaleLines are the units sold by hold id and stock line (lineKey): a
	// paid checkout's hold sells what the customer bought, which for an
	// adjustable line may be less than the hold reserved.
	SaleLines map[string]map[string]int64
	// Oversold counts the oversold orders by checkout id.
	Oversold map[string]int
	// Adjustments are the ADJUSTMENT movements by reference.
	Adjustments map[string]Units
	// Events are the ids of the Stripe events recorded in the inbox.
	Events map[string]bool
}

// CheckoutRow is a checkout as stored.
type CheckoutRow struct {
	ID, HoldID, SessionID, Status string
}

// HoldRow is a hold as stored.
type HoldRow struct {
	ID, Status, SessionID string
}

// Units counts rows and the units they move.
type Units struct {
	Rows  int
	Units int64
}

// Stripe is what the fake Stripe knows, for Account.
type Stripe struct {
	// SessionsByCheckout counts the sessions made per checkout id.
	SessionsByCheckout map[string]int
	// Paid holds the ids of the sessions customers paid.
	Paid map[string]bool
	// Bought are the units each paid session's customer bought, by session
	// id and stock line (lineKey): an adjustable line's as picked on the
	// page, none of a line taken down to 0.
	Bought map[string]map[string]int64
}

// Account checks that everything acknowledged was applied exactly once, and
// nothing unacknowledged more than once. It returns how many things it
// checked and a line per problem.
func Account(acks *Acks, stripe Stripe, db Snapshot) (checked int, problems []string) {
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	paidAcked := map[string]bool{}
	for _, s := range acks.PaidEvents {
		paidAcked[s] = true
	}
	eventIDs := make([]string, 0, len(acks.PaidEvents)+len(acks.ExpiredEvents))
	for id := range acks.PaidEvents {
		eventIDs = append(eventIDs, id)
	}
	for id := range acks.ExpiredEvents {
		eventIDs = append(eventIDs, id)
	}
	sort.Strings(eventIDs)
	for _, id := range eventIDs {
		checked++
		if !db.Events[id] {
			fail("acknowledged event %s is not in the inbox", id)
		}
	}

	for _, key := range sortedKeys(acks.Checkouts) {
		ack := acks.Checkouts[key]
		checked++
		c, ok := db.Checkouts[key]
		if !ok {
			fail("checkout %s: acknowledged (session %s) but not recorded", key, ack.SessionID)
			continue
		}
		if c.SessionID != ack.SessionID {
			fail("checkout %s: acknowledged session %s, recorded %q", key, ack.SessionID, c.SessionID)
		}
		if n := stripe.SessionsByCheckout[c.ID]; n != 1 {
			fail("checkout %s: Stripe made %d sessions for it, want 1", key, n)
		}
		if h, ok := db.Holds[ack.HoldID]; ack.HoldID == "" || !ok {
			fail("checkout %s: acknowledged hold %q does not exist", key, ack.HoldID)
		} else if h.SessionID != ack.SessionID {
			fail("checkout %s: hold %s has session %q, want %s", key, ack.HoldID, h.SessionID, ack.SessionID)
		}
		// The sale is the acknowledged hold committed or, when the payment
		// came after it was released, a hold sold anew and recorded on the
		// checkout. Either sells what the customer bought.
		holds := []string{ack.HoldID}
		if c.HoldID != "" && c.HoldID != ack.HoldID {
			holds = append(holds, c.HoldID)
		}
		sets := 0
		for _, h := range holds {
			sold := db.SaleLines[h]
			if len(sold) == 0 {
				continue
			}
			sets++
			if bought := stripe.Bought[ack.SessionID]; stripe.Paid[ack.SessionID] && !maps.Equal(sold, bought) {
				fail("checkout %s: hold %s sold %s, the customer bought %s", key, h, formatLines(sold), formatLines(bought))
			}
		}
		oversold := db.Oversold[c.ID]
		switch {
		case paidAcked[ack.SessionID]:
			switch c.Status {
			case "completed":
				if sets != 1 || oversold != 0 {
					fail("checkout %s: paid webhook acknowledged, completed with %d sales and %d oversold orders, want 1 and 0", key, sets, oversold)
				}
			case "oversold":
				if sets != 0 || oversold != 1 {
					fail("checkout %s: paid webhook acknowledged, oversold with %d sales and %d oversold orders, want 0 and 1", key, sets, oversold)
				}
			default:
				fail("checkout %s: paid webhook acknowledged, but the checkout is %s", key, c.Status)
			}
		case stripe.Paid[ack.SessionID]:
			// Paid, but no delivery was acknowledged before the end: at most once.
			if sets+oversold > 1 {
				fail("checkout %s: %d sales and %d oversold orders, want at most one of either", key, sets, oversold)
			}
		default:
			if sets+oversold != 0 {
				fail("checkout %s: never paid, but %d sales and %d oversold orders", key, sets, oversold)
			}
		}
	}

	for _, id := range sortedKeys(acks.Holds) {
		ack := acks.Holds[id]
		checked++
		h, ok := db.Holds[id]
		if !ok {
			fail("hold %s (%s): acknowledged but not recorded", id, ack.Key)
			continue
		}
		sets, bad := saleSets(db, []string{id})
		if len(bad) > 0 {
			fail("hold %s: %d SALE movements for %d allocations", id, db.Sales[id].Rows, db.Allocations[id].Rows)
		}
		if ack.Committed && (h.Status != "committed" || sets != 1) {
			fail("hold %s: commit acknowledged, but it is %s with %d sales", id, h.Status, sets)
		}
		if (h.Status == "committed") != (sets == 1) {
			fail("hold %s: %s with %d sales", id, h.Status, sets)
		}
	}

	for _, key := range sortedKeys(acks.Adjustments) {
		ack := acks.Adjustments[key]
		checked++
		if got := db.Adjustments[key]; got.Rows != 1 || got.Units != ack.Quantity {
			fail("adjustment %s: acknowledged +%d %s, ledger has %d movements of %d units", key, ack.Quantity, ack.SKU, got.Rows, got.Units)
		}
	}
	for _, key := range sortedKeys(acks.Unacked) {
		ack := acks.Unacked[key]
		checked++
		if got := db.Adjustments[key]; got.Rows > 1 || (got.Rows == 1 && got.Units != ack.Quantity) {
			fail("adjustment %s (never acknowledged): ledger has %d movements of %d units, want at most one of %d", key, got.Rows, got.Units, ack.Quantity)
		}
	}
	return checked, problems
}

// saleSets counts the holds among ids that were sold, and lists those whose
// SALE movements are not exactly one per allocation.
func saleSets(db Snapshot, ids []string) (sets int, bad []string) {
	for _, id := range ids {
		s := db.Sales[id]
		if s.Rows == 0 {
			continue
		}
		a := db.Allocations[id]
		if s.Rows != a.Rows || s.Units != a.Units {
			bad = append(bad, id)
		}
		sets++
	}
	return sets, bad
}

// formatLines prints units by stock line, sorted by line: "SOAK-1 2,
// SOAK-4 1", or "nothing".
func formatLines(units map[string]int64) string {
	if len(units) == 0 {
		return "nothing"
	}
	parts := make([]string, 0, len(units))
	for _, k := range sortedKeys(units) {
		parts = append(parts, fmt.Sprintf("%s %d", k, units[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
