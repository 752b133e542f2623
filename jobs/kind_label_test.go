package jobs

import (
	"strings"
	"testing"

	"github.com/riverqueue/river"
)

// The jobs metric labels checkoutd's kinds by name and any other as "other".
func TestKindLabel(t *testing.T) {
	t.Parallel()
	for _, args := range []river.JobArgs{ReapArgs{}, ExpireSessionArgs{}, OversoldAlertArgs{}, RefundOversoldArgs{}, CheckStockArgs{}, DeliverAlertArgs{}} {
		if got := kindLabel(args.Kind()); got != args.Kind() {
			t.Errorf("kindLabel(%q) = %q", args.Kind(), got)
		}
	}
	for _, kind := range []string{"", "other_service_job", strings.Repeat("k", 1<<16)} {
		if got := kindLabel(kind); got != "other" {
			t.Errorf("kindLabel(%.20q) = %q, want other", kind, got)
		}
	}
}
