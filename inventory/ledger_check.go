package inventory

import (
	"context"
	"fmt"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// Discrepancy is a stock row the ledger does not account for.
type Discrepancy struct {
	ShopID     string
	SKU        string
	VariantKey string
	LocationID string
	// OnHand should equal MovementSum, the sum of the row's movements
	// (RESERVATION and RELEASE aside).
	OnHand      int64
	MovementSum int64
	// Reserved should equal HeldSum, what open holds have allocated there.
	Reserved int64
	HeldSum  int64
	// StaleAllocations counts the row's allocations whose copy of their
	// hold's expiry, which reads use to discount lapsed holds, disagrees
	// with the hold; it should be 0.
	StaleAllocations int64
}

func (d Discrepancy) String() string {
	s := fmt.Sprintf("%s %s[%s]@%s: on_hand %d vs movements %d, reserved %d vs open holds %d",
		d.ShopID, d.SKU, d.VariantKey, d.LocationID, d.OnHand, d.MovementSum, d.Reserved, d.HeldSum)
	if d.StaleAllocations > 0 {
		s += fmt.Sprintf(", allocations disagreeing with their hold's expiry: %d", d.StaleAllocations)
	}
	return s
}

// LedgerReport is the outcome of CheckLedger.
type LedgerReport struct {
	// RowsChecked counts the stock rows looked at.
	RowsChecked int64
	// Discrepancies lists the rows that do not add up; none on a clean ledger.
	Discrepancies []Discrepancy
}

// CheckLedger proves, for every stock row of the shop (every shop when shopID
// is ""), that on_hand is the sum of its movements, reserved is the sum of
// its open holds' allocations, and every allocation's copy of its hold's
// expiry agrees with the hold.
func (l *Ledger) CheckLedger(ctx context.Context, shopID string) (*LedgerReport, error) {
	rows, err := l.queries.LedgerDiscrepancies(ctx, l.db, shopID)
	if err != nil {
		return nil, l.dbError("check ledger", err)
	}
	n, err := l.queries.CountStockLevels(ctx, l.db, shopID)
	if err != nil {
		return nil, l.dbError("count stock rows", err)
	}
	report := &LedgerReport{RowsChecked: n}
	for _, r := range rows {
		report.Discrepancies = append(report.Discrepancies, discrepancyFromRow(r))
	}
	return report, nil
}

func discrepancyFromRow(r db.LedgerDiscrepanciesRow) Discrepancy {
	return Discrepancy{
		ShopID: r.ShopID, SKU: r.Sku, VariantKey: r.VariantKey, LocationID: r.LocationID,
		OnHand: r.OnHand, MovementSum: r.MovementSum, Reserved: r.Reserved, HeldSum: r.HeldSum,
		StaleAllocations: r.StaleAllocations,
	}
}
