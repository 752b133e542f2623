package loadtest

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func ms(n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, v := range n {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value, p50", ms(7), 50, 7 * time.Millisecond},
		{"one value, p99", ms(7), 99, 7 * time.Millisecond},
		{"p0 is the minimum", ms(1, 2, 3), 0, time.Millisecond},
		{"negative p is the minimum", ms(1, 2, 3), -5, time.Millisecond},
		{"p100 is the maximum", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"p above 100 is the maximum", ms(1, 2, 3), 150, 3 * time.Millisecond},
		{"p50 of two is the lower", ms(1, 2), 50, time.Millisecond},
		{"p51 of two is the upper", ms(1, 2), 51, 2 * time.Millisecond},
		{"p50 of four", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p90 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{"p99 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p99.9 of 1..100", hundred, 99.9, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: Percentile(%v, %v) = %v, want %v", tt.name, tt.sorted, tt.p, got, tt.want)
		}
	}
}

func TestSummarizeSortsFirst(t *testing.T) {
	got := Summarize(ms(9, 1, 5, 3, 7, 2, 8, 4, 10, 6))
	want := LatencySummary{Count: 10, P50: 5 * time.Millisecond, P90: 9 * time.Millisecond, P99: 10 * time.Millisecond, Max: 10 * time.Millisecond}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if got := Summarize(nil); got != (LatencySummary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
}

func TestReportPrint(t *testing.T) {
	r := &Report{
		URL: "http://127.0.0.1:18090", Shop: "load", Mode: ModeHoldCommit, Clients: 8, SKUs: 1,
		Duration: 10 * time.Second, Requests: 5000,
		Setup:      &SetupResult{SKUs: 1, Quantity: 1_000_000, Requests: 1, Elapsed: 12 * time.Millisecond},
		Elapsed:    2500 * time.Millisecond,
		StopReason: StopRequests,
		Lifecycles: 5000, OK: 4988, Failed: 12,
		Latency: []KindLatency{
			{KindHold, LatencySummary{Count: 5000, P50: 1500 * time.Microsecond, P90: 3 * time.Millisecond, P99: 12346 * time.Microsecond, Max: 101 * time.Millisecond}},
			{KindCommit, LatencySummary{Count: 4988, P50: 900 * time.Microsecond, P90: 2 * time.Millisecond, P99: 4 * time.Millisecond, Max: 9 * time.Millisecond}},
		},
		Responses: []ResponseCount{
			{KindHold, 201, "", 4988},
			{KindHold, 409, "insufficient_stock", 12},
			{KindCommit, 200, "", 4988},
		},
	}
	want := `load: http://127.0.0.1:18090, shop load, mode hold-commit, 8 clients, 1 SKU
setup: set 1 SKU to 1000000 on hand in 1 request (0.01s)
ran 2.50s (request count reached; bound: duration 10s, 5000 lifecycles)
lifecycles: 5000 (2000.0/s); ok 4988 (1995.2/s); failed 12
requests: 9988 (3995.2/s)

latency:
  kind        count        p50        p90        p99        max
  hold         5000     1.50ms     3.00ms    12.35ms   101.00ms
  commit       4988     0.90ms     2.00ms     4.00ms     9.00ms

responses:
  hold 201: 4988
  hold 409 insufficient_stock: 12
  commit 200: 4988
`
	var buf bytes.Buffer
	if err := r.Print(&buf); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != want {
		t.Errorf("Print wrote\n%s\nwant\n%s", got, want)
	}
}

func TestReportPrintTransportErrorsAndNoRequests(t *testing.T) {
	r := &Report{
		URL: "http://[::1]:1", Shop: "s", Mode: ModeHold, Clients: 1, SKUs: 3,
		Duration: time.Second, Elapsed: time.Second, StopReason: StopDuration,
		Lifecycles: 2, Failed: 2,
		Responses:      []ResponseCount{{KindHold, 0, "", 2}},
		TransportError: "connection refused",
	}
	want := `load: http://[::1]:1, shop s, mode hold, 1 client, 3 SKUs
ran 1.00s (duration reached; bound: duration 1s)
lifecycles: 2 (2.0/s); ok 0 (0.0/s); failed 2
requests: 2 (2.0/s)

responses:
  hold transport error: 2
first transport error: connection refused
`
	var buf bytes.Buffer
	if err := r.Print(&buf); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != want {
		t.Errorf("Print wrote\n%s\nwant\n%s", got, want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestReportPrintReturnsWriteError(t *testing.T) {
	if err := (&Report{}).Print(failWriter{}); err == nil || err.Error() != "disk full" {
		t.Errorf("Print to a failing writer = %v, want disk full", err)
	}
}

func TestTallyFill(t *testing.T) {
	a, b := newTally(), newTally()
	a.record(result{kind: KindHold, status: 201, ok: true, latency: 3 * time.Millisecond})
	a.record(result{kind: KindCommit, status: 200, ok: true, latency: time.Millisecond})
	a.ok++
	b.record(result{kind: KindHold, status: 409, code: "insufficient_stock", latency: 2 * time.Millisecond})
	b.failed++
	b.record(result{kind: KindHold, err: errors.New("connection reset")})
	b.failed++
	var r Report
	r.fill([]*tally{a, b})
	if r.Lifecycles != 3 || r.OK != 1 || r.Failed != 2 {
		t.Errorf("lifecycles %d ok %d failed %d, want 3 1 2", r.Lifecycles, r.OK, r.Failed)
	}
	wantResponses := []ResponseCount{
		{KindHold, 0, "", 1}, {KindHold, 201, "", 1}, {KindHold, 409, "insufficient_stock", 1}, {KindCommit, 200, "", 1},
	}
	if len(r.Responses) != len(wantResponses) {
		t.Fatalf("responses %v, want %v", r.Responses, wantResponses)
	}
	for i := range wantResponses {
		if r.Responses[i] != wantResponses[i] {
			t.Errorf("responses[%d] = %v, want %v", i, r.Responses[i], wantResponses[i])
		}
	}
	// Latency covers responses of any status, not requests without one.
	if len(r.Latency) != 2 || r.Latency[0].Kind != KindHold || r.Latency[0].Count != 2 || r.Latency[0].Max != 3*time.Millisecond ||
		r.Latency[1].Kind != KindCommit || r.Latency[1].Count != 1 {
		t.Errorf("latency %+v", r.Latency)
	}
	if r.TransportError != "connection reset" {
		t.Errorf("transport error %q", r.TransportError)
	}
}
