package soak

import (
	"strings"
	"testing"
	"time"
)

// accountingBundle is a run in which everything was applied exactly once:
// a paid checkout, an abandoned one, a paid checkout whose hold was
// released and sold anew, a paid checkout whose customer bought less of an
// adjustable line than its hold reserved and dropped another, a committed
// hold and an adjustment.
type accountingBundle struct {
	acks   *Acks
	stripe Stripe
	db     Snapshot
}

func setupAccounting(t *testing.T) *accountingBundle {
	t.Helper()
	acks := NewAcks()
	acks.Checkouts["c1"] = AckedCheckout{Key: "c1", SessionID: "cs_1", HoldID: "hold_1"}
	acks.Checkouts["c2"] = AckedCheckout{Key: "c2", SessionID: "cs_2", HoldID: "hold_2"}
	acks.Checkouts["c3"] = AckedCheckout{Key: "c3", SessionID: "cs_3", HoldID: "hold_3"}
	acks.Checkouts["c6"] = AckedCheckout{Key: "c6", SessionID: "cs_6", HoldID: "hold_6"}
	acks.PaidEvents["evt_1"] = "cs_1"
	acks.PaidEvents["evt_3"] = "cs_3"
	acks.PaidEvents["evt_6"] = "cs_6"
	acks.ExpiredEvents["evt_2"] = "cs_2"
	acks.Holds["hold_4"] = AckedHold{ID: "hold_4", Key: "h4", Committed: true}
	acks.Adjustments["a1"] = Adjustment{Key: "a1", SKU: "SOAK-1", Quantity: 7}
	acks.Unacked["a2"] = Adjustment{Key: "a2", SKU: "SOAK-2", Quantity: 5}

	two := Units{Rows: 2, Units: 3}
	// Lines SOAK-1 × 2 and SOAK-2 × 1, as two lines hold and sell them.
	twoLines := map[string]int64{"SOAK-1": 2, "SOAK-2": 1}
	return &accountingBundle{
		acks: acks,
		stripe: Stripe{
			SessionsByCheckout: map[string]int{"chk_1": 1, "chk_2": 1, "chk_3": 1, "chk_6": 1},
			Paid:               map[string]bool{"cs_1": true, "cs_3": true, "cs_6": true},
			Bought: map[string]map[string]int64{
				"cs_1": twoLines, "cs_3": twoLines,
				// hold_6 reserved SOAK-3 up to 4 and SOAK-4 up to 2.
				"cs_6": {"SOAK-3": 3},
			},
		},
		db: Snapshot{
			Checkouts: map[string]CheckoutRow{
				"c1": {ID: "chk_1", HoldID: "hold_1", SessionID: "cs_1", Status: "completed"},
				"c2": {ID: "chk_2", HoldID: "hold_2", SessionID: "cs_2", Status: "expired"},
				// Paid after its hold lapsed: the checkout now names the sale.
				"c3": {ID: "chk_3", HoldID: "hold_5", SessionID: "cs_3", Status: "completed"},
				"c6": {ID: "chk_6", HoldID: "hold_6", SessionID: "cs_6", Status: "completed"},
			},
			Holds: map[string]HoldRow{
				"hold_1": {ID: "hold_1", Status: "committed", SessionID: "cs_1"},
				"hold_2": {ID: "hold_2", Status: "expired", SessionID: "cs_2"},
				"hold_3": {ID: "hold_3", Status: "expired", SessionID: "cs_3"},
				"hold_4": {ID: "hold_4", Status: "committed"},
				"hold_5": {ID: "hold_5", Status: "committed"},
				"hold_6": {ID: "hold_6", Status: "committed", SessionID: "cs_6"},
			},
			Sales: map[string]Units{"hold_1": two, "hold_4": {Rows: 1, Units: 1}, "hold_5": two, "hold_6": {Rows: 1, Units: 3}},
			SaleLines: map[string]map[string]int64{
				"hold_1": twoLines, "hold_4": {"SOAK-5": 1}, "hold_5": twoLines, "hold_6": {"SOAK-3": 3},
			},
			Allocations: map[string]Units{"hold_1": two, "hold_2": two, "hold_3": two, "hold_4": {Rows: 1, Units: 1}, "hold_5": two, "hold_6": {Rows: 2, Units: 6}},
			Oversold:    map[string]int{},
			Adjustments: map[string]Units{"a1": {Rows: 1, Units: 7}},
			Events:      map[string]bool{"evt_1": true, "evt_2": true, "evt_3": true, "evt_6": true},
		},
	}
}

func TestAccount(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		// change breaks the clean run; want is a substring of the one
		// problem it must cause ("" for none).
		change func(b *accountingBundle)
		want   string
	}{
		{name: "clean", change: func(*accountingBundle) {}},
		{
			name: "oversold instead of sold",
			change: func(b *accountingBundle) {
				b.db.Checkouts["c3"] = CheckoutRow{ID: "chk_3", HoldID: "hold_3", SessionID: "cs_3", Status: "oversold"}
				b.db.Oversold["chk_3"] = 1
				delete(b.db.Sales, "hold_5")
				delete(b.db.SaleLines, "hold_5")
			},
		},
		{
			name:   "acknowledged event missing from the inbox",
			change: func(b *accountingBundle) { delete(b.db.Events, "evt_2") },
			want:   "acknowledged event evt_2 is not in the inbox",
		},
		{
			name:   "acknowledged checkout not recorded",
			change: func(b *accountingBundle) { delete(b.db.Checkouts, "c2") },
			want:   "checkout c2: acknowledged (session cs_2) but not recorded",
		},
		{
			name:   "second Stripe session",
			change: func(b *accountingBundle) { b.stripe.SessionsByCheckout["chk_2"] = 2 },
			want:   "Stripe made 2 sessions for it",
		},
		{
			name: "paid webhook acknowledged, sale lost",
			change: func(b *accountingBundle) {
				delete(b.db.Sales, "hold_1")
				delete(b.db.SaleLines, "hold_1")
				b.db.Holds["hold_1"] = HoldRow{ID: "hold_1", Status: "expired", SessionID: "cs_1"}
			},
			want: "checkout c1: paid webhook acknowledged, completed with 0 sales",
		},
		{
			name:   "sold twice",
			change: func(b *accountingBundle) { b.db.SaleLines["hold_3"] = map[string]int64{"SOAK-1": 2, "SOAK-2": 1} },
			want:   "checkout c3: paid webhook acknowledged, completed with 2 sales",
		},
		{
			name:   "a commit's SALE movements doubled",
			change: func(b *accountingBundle) { b.db.SaleLines["hold_1"] = map[string]int64{"SOAK-1": 4, "SOAK-2": 2} },
			want:   "checkout c1: hold hold_1 sold SOAK-1 4, SOAK-2 2, the customer bought SOAK-1 2, SOAK-2 1",
		},
		{
			name:   "never paid, but sold",
			change: func(b *accountingBundle) { b.db.SaleLines["hold_2"] = map[string]int64{"SOAK-1": 2, "SOAK-2": 1} },
			want:   "checkout c2: never paid, but 1 sales",
		},
		{
			name:   "adjustable line committed at its maximum",
			change: func(b *accountingBundle) { b.db.SaleLines["hold_6"] = map[string]int64{"SOAK-3": 4, "SOAK-4": 2} },
			want:   "checkout c6: hold hold_6 sold SOAK-3 4, SOAK-4 2, the customer bought SOAK-3 3",
		},
		{
			name:   "line the customer dropped sold anyway",
			change: func(b *accountingBundle) { b.db.SaleLines["hold_6"]["SOAK-4"] = 2 },
			want:   "checkout c6: hold hold_6 sold SOAK-3 3, SOAK-4 2, the customer bought SOAK-3 3",
		},
		{
			name: "customer bought the maximum",
			change: func(b *accountingBundle) {
				b.stripe.Bought["cs_6"] = map[string]int64{"SOAK-3": 4, "SOAK-4": 2}
				b.db.SaleLines["hold_6"] = map[string]int64{"SOAK-3": 4, "SOAK-4": 2}
			},
		},
		{
			name: "commit acknowledged, hold expired",
			change: func(b *accountingBundle) {
				b.db.Holds["hold_4"] = HoldRow{ID: "hold_4", Status: "expired"}
				delete(b.db.Sales, "hold_4")
			},
			want: "hold hold_4: commit acknowledged, but it is expired with 0 sales",
		},
		{
			name:   "adjustment applied twice",
			change: func(b *accountingBundle) { b.db.Adjustments["a1"] = Units{Rows: 2, Units: 14} },
			want:   "adjustment a1: acknowledged +7 SOAK-1, ledger has 2 movements of 14 units",
		},
		{
			name:   "acknowledged adjustment lost",
			change: func(b *accountingBundle) { delete(b.db.Adjustments, "a1") },
			want:   "adjustment a1: acknowledged +7 SOAK-1, ledger has 0 movements",
		},
		{
			name:   "unacknowledged adjustment applied once",
			change: func(b *accountingBundle) { b.db.Adjustments["a2"] = Units{Rows: 1, Units: 5} },
		},
		{
			name:   "unacknowledged adjustment applied twice",
			change: func(b *accountingBundle) { b.db.Adjustments["a2"] = Units{Rows: 2, Units: 10} },
			want:   "adjustment a2 (never acknowledged): ledger has 2 movements",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupAccounting(t)
			tt.change(b)
			checked, problems := Account(b.acks, b.stripe, b.db)
			if checked != 11 {
				t.Errorf("checked %d things, want 11", checked)
			}
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("problems in a clean run:\n%s", strings.Join(problems, "\n"))
			case tt.want != "" && (len(problems) != 1 || !strings.Contains(problems[0], tt.want)):
				t.Errorf("problems:\n%s\nwant exactly one containing %q", strings.Join(problems, "\n"), tt.want)
			}
		})
	}
}

func TestUnexplained(t *testing.T) {
	t.Parallel()

	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	outages := []outage{
		{Kind: FaultPGRestart, Start: at(10), End: at(12)},
		{Kind: FaultKill, Start: at(20), End: at(21)},
		{Kind: FaultStop, Start: at(30), End: at(32)},
	}
	req := func(start, end float64, status int, f failure) request {
		return request{Kind: "checkout", Start: at(start), End: at(end), Status: status, Failure: f}
	}
	tests := []struct {
		name        string
		r           request
		unexplained bool
	}{
		{"503 while PostgreSQL is down", req(11, 11.1, 503, noFailure), false},
		{"503 begun before PostgreSQL went down", req(9.5, 10.2, 503, noFailure), false},
		{"503 within the grace after recovery", req(12.5, 12.6, 503, noFailure), false},
		{"503 with no outage", req(15, 15.1, 503, noFailure), true},
		{"500 while PostgreSQL is down", req(11, 11.1, 500, noFailure), true},
		{"502 while PostgreSQL is down", req(11, 11.1, 502, noFailure), true},
		{"connection error while PostgreSQL is down", req(11, 11.1, 0, connError), true},
		{"connection error while the process is dead", req(20.5, 20.5, 0, connError), false},
		{"timeout while the process is stopped", req(29, 39, 0, timeout), false},
		{"timeout while PostgreSQL is down", req(11, 21.5, 0, timeout), true},
		{"timeout with no outage", req(40, 50, 0, timeout), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := unexplained([]request{tt.r}, outages, time.Second)
			if (len(got) == 1) != tt.unexplained {
				t.Errorf("unexplained = %v, want %v", len(got) == 1, tt.unexplained)
			}
		})
	}
}
