package soak

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// report prints what the run did and the invariants' verdicts, ending with
// "N passed, M failed".
func (h *harness) report(res *Result) {
	w := h.cfg.Out
	_, _, faults, recovery := h.rec.snapshot()
	fmt.Fprintf(w, "soak: seed %d, ran %v with %d clients, drained %v; %s\n", res.Seed, h.cfg.Duration, h.cfg.Clients, h.cfg.Drain, h.adjustableState())
	fmt.Fprintf(w, "requests: %s\n", formatCounts(h.rec.statusCounts()))
	for _, kind := range h.rec.kinds() {
		fmt.Fprintf(w, "  %-9s %s\n", kind, formatCounts(h.rec.kindCounts(kind)))
	}
	var parts []string
	for _, k := range faultKinds {
		if faults[k] > 0 || k != FaultCrash {
			parts = append(parts, fmt.Sprintf("%s %d", k, faults[k]))
		}
	}
	fmt.Fprintf(w, "faults: %s\n", strings.Join(parts, ", "))
	for _, k := range faultKinds {
		if len(recovery[k]) > 0 {
			fmt.Fprintf(w, "recovery after %s: %s\n", k, durations(recovery[k]))
		}
	}
	fmt.Fprintf(w, "stripe: %s\n", formatCounts(h.stripe.callCounts()))
	printChecks(w, res)
	if res.Dir != "" || res.Failed() > 0 {
		fmt.Fprintf(w, "logs: %s (checkoutd.log, pgdata/server.log)\n", h.dir)
	}
}

// adjustableState says whether checkouts had adjustable lines, and if not,
// why not.
func (h *harness) adjustableState() string {
	if h.adjustable {
		return "adjustable quantities on"
	}
	return "adjustable quantities off (" + h.adjustableWhy + ")"
}

// printChecks prints one line per invariant and the tally.
func printChecks(w io.Writer, res *Result) {
	passed := 0
	for _, c := range res.Checks {
		verdict := "FAIL"
		if c.Passed {
			verdict = "PASS"
			passed++
		}
		fmt.Fprintf(w, "%s %s: %s\n", verdict, c.Name, c.Detail)
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, len(res.Checks)-passed)
}

// durations summarises recovery times: how many, the median and the worst.
func durations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none measured"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("n=%d p50 %v max %v", len(s), s[(len(s)-1)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

// formatCounts prints counts as "label n" pairs: HTTP statuses in numeric
// order first, then the other labels alphabetically, then the total.
func formatCounts(m map[string]int) string {
	labels := make([]string, 0, len(m))
	total := 0
	for k, n := range m {
		labels = append(labels, k)
		total += n
	}
	sort.Slice(labels, func(i, j int) bool {
		a, errA := strconv.Atoi(labels[i])
		b, errB := strconv.Atoi(labels[j])
		switch {
		case errA == nil && errB == nil:
			return a < b
		case errA == nil || errB == nil:
			return errA == nil
		}
		return labels[i] < labels[j]
	})
	parts := make([]string, len(labels))
	for i, k := range labels {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return fmt.Sprintf("%s (total %d)", strings.Join(parts, ", "), total)
}

// kinds lists the kinds of requests sent, alphabetically.
func (rec *Recorder) kinds() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]string, 0, len(rec.byKind))
	for k := range rec.byKind {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// kindCounts returns the results of one kind of request.
func (rec *Recorder) kindCounts(kind string) map[string]int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := map[string]int{}
	for k, v := range rec.byKind[kind] {
		out[k] = v
	}
	return out
}
