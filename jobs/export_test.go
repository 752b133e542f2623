package jobs

import "time"

// SetReapBudget sets how long one run of w reaps before it snoozes.
func SetReapBudget(w *ReapWorker, d time.Duration) { w.budget = d }
