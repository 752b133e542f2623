package checkouttest

import (
	"context"
	"testing"

	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
)

// Refund is what a checkout's payment has had refunded, as charge.refunded
// events recorded it: the amount, and whether in full.
func Refund(tb testing.TB, exec database.Executor, shopID, checkoutID string) (amountRefunded int64, refunded bool) {
	tb.Helper()
	row, err := db.New().GetCheckoutRefund(context.Background(), exec, db.GetCheckoutRefundParams{ShopID: shopID, ID: checkoutID})
	if err != nil {
		tb.Fatalf("read refund of checkout %s: %v", checkoutID, err)
	}
	if row.Refunded != (row.RefundedAt != nil) {
		tb.Fatalf("checkout %s: refunded %v but refunded_at %v", checkoutID, row.Refunded, row.RefundedAt)
	}
	return row.AmountRefunded, row.Refunded
}
