package loadtest

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

// StopReason says what ended a run.
type StopReason string

const (
	StopDuration    StopReason = "duration reached"
	StopRequests    StopReason = "request count reached"
	StopInterrupted StopReason = "interrupted"
)

// Report is what a run did.
type Report struct {
	URL      string
	Shop     string
	Mode     Mode
	Clients  int
	SKUs     int
	Duration time.Duration // the time bound
	Requests int64         // the count bound, 0 for none

	// Setup is what setup did, nil without it.
	Setup *SetupResult

	// Elapsed runs from the first lifecycle's start to the last one's end.
	Elapsed    time.Duration
	StopReason StopReason

	// Lifecycles is how many lifecycles finished, OK of them with every
	// request answered 2xx and Failed the others.
	Lifecycles, OK, Failed int64

	// Latency has a row per request kind sent, in the order hold, commit,
	// release. It covers every request that got a response, whatever its
	// status.
	Latency []KindLatency
	// Responses counts responses by kind, status and error code, in that
	// order. A request that got no response has status 0.
	Responses []ResponseCount
	// TransportError is the first error of a request that got no response.
	TransportError string
}

// SetupResult is what setup did before the run.
type SetupResult struct {
	SKUs     int
	Quantity int64
	Requests int
	Elapsed  time.Duration
}

// KindLatency is the latency of one kind of request.
type KindLatency struct {
	Kind Kind
	LatencySummary
}

// LatencySummary sums up a set of latencies.
type LatencySummary struct {
	Count              int
	P50, P90, P99, Max time.Duration
}

// ResponseCount is how many requests of a kind got a status and error code.
type ResponseCount struct {
	Kind   Kind
	Status int    // 0: no response
	Code   string // the error body's "error"; empty for success
	Count  int64
}

// Rate is the finished lifecycles per second.
func (r *Report) Rate() float64 { return perSecond(r.Lifecycles, r.Elapsed) }

// OKRate is the lifecycles per second whose every request succeeded.
func (r *Report) OKRate() float64 { return perSecond(r.OK, r.Elapsed) }

// RequestCount is how many requests the lifecycles sent.
func (r *Report) RequestCount() int64 {
	var n int64
	for _, c := range r.Responses {
		n += c.Count
	}
	return n
}

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Percentile returns the p-th percentile (0-100) of sorted, an ascending
// slice, by the nearest-rank method: the smallest value that at least p% of
// the values are less than or equal to. It returns 0 for no values, the
// minimum for p <= 0 and the maximum for p >= 100.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}

// Summarize sorts samples in place and sums them up.
func Summarize(samples []time.Duration) LatencySummary {
	slices.Sort(samples)
	s := LatencySummary{Count: len(samples)}
	if len(samples) > 0 {
		s.P50 = Percentile(samples, 50)
		s.P90 = Percentile(samples, 90)
		s.P99 = Percentile(samples, 99)
		s.Max = samples[len(samples)-1]
	}
	return s
}

// Print writes the report for a person to read.
func (r *Report) Print(w io.Writer) error {
	p := &printer{w: w}
	p.printf("load: %s, shop %s, mode %s, %d %s, %d %s\n",
		r.URL, r.Shop, r.Mode, r.Clients, plural(int64(r.Clients), "client", "clients"), r.SKUs, plural(int64(r.SKUs), "SKU", "SKUs"))
	if s := r.Setup; s != nil {
		p.printf("setup: set %d %s to %d on hand in %d %s (%s)\n",
			s.SKUs, plural(int64(s.SKUs), "SKU", "SKUs"), s.Quantity, s.Requests, plural(int64(s.Requests), "request", "requests"), seconds(s.Elapsed))
	}
	bound := "duration " + r.Duration.String()
	if r.Requests > 0 {
		bound += ", " + strconv.FormatInt(r.Requests, 10) + " lifecycles"
	}
	p.printf("ran %s (%s; bound: %s)\n", seconds(r.Elapsed), r.StopReason, bound)
	p.printf("lifecycles: %d (%.1f/s); ok %d (%.1f/s); failed %d\n",
		r.Lifecycles, r.Rate(), r.OK, r.OKRate(), r.Failed)
	p.printf("requests: %d (%.1f/s)\n", r.RequestCount(), perSecond(r.RequestCount(), r.Elapsed))

	if len(r.Latency) > 0 {
		p.printf("\nlatency:\n")
		const row = "  %-7s %9s %10s %10s %10s %10s\n"
		p.printf(row, "kind", "count", "p50", "p90", "p99", "max")
		for _, l := range r.Latency {
			p.printf(row, l.Kind, strconv.Itoa(l.Count), millis(l.P50), millis(l.P90), millis(l.P99), millis(l.Max))
		}
	}
	if len(r.Responses) > 0 {
		p.printf("\nresponses:\n")
		for _, c := range r.Responses {
			p.printf("  %s %s: %d\n", c.Kind, statusText(c.Status, c.Code), c.Count)
		}
	}
	if r.TransportError != "" {
		p.printf("first transport error: %s\n", r.TransportError)
	}
	return p.err
}

// printer keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// statusText is a status and error code as a report shows them, e.g.
// "409 insufficient_stock", "201", or "transport error".
func statusText(status int, code string) string {
	switch {
	case status == 0:
		return "transport error"
	case code == "":
		return strconv.Itoa(status)
	default:
		return strconv.Itoa(status) + " " + code
	}
}

func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// tally is one worker's record of its run; workers do not share one, so
// recording takes no lock.
type tally struct {
	latency   map[Kind][]time.Duration
	responses map[responseKey]int64
	ok        int64
	failed    int64
	transport error
}

type responseKey struct {
	kind   Kind
	status int
	code   string
}

func newTally() *tally {
	return &tally{latency: map[Kind][]time.Duration{}, responses: map[responseKey]int64{}}
}

func (t *tally) record(res result) {
	t.responses[responseKey{res.kind, res.status, res.code}]++
	if res.status != 0 {
		t.latency[res.kind] = append(t.latency[res.kind], res.latency)
	} else if t.transport == nil {
		t.transport = res.err
	}
}

// fill merges the workers' tallies into r.
func (r *Report) fill(workers []*tally) {
	latency := map[Kind][]time.Duration{}
	responses := map[responseKey]int64{}
	for _, t := range workers {
		r.OK += t.ok
		r.Failed += t.failed
		for k, v := range t.latency {
			latency[k] = append(latency[k], v...)
		}
		for k, n := range t.responses {
			responses[k] += n
		}
		if t.transport != nil && r.TransportError == "" {
			r.TransportError = t.transport.Error()
		}
	}
	r.Lifecycles = r.OK + r.Failed
	for _, k := range kinds {
		if samples := latency[k]; len(samples) > 0 {
			r.Latency = append(r.Latency, KindLatency{Kind: k, LatencySummary: Summarize(samples)})
		}
	}
	for k, n := range responses {
		r.Responses = append(r.Responses, ResponseCount{Kind: k.kind, Status: k.status, Code: k.code, Count: n})
	}
	slices.SortFunc(r.Responses, func(a, b ResponseCount) int {
		return cmp.Or(
			cmp.Compare(slices.Index(kinds, a.Kind), slices.Index(kinds, b.Kind)),
			cmp.Compare(a.Status, b.Status),
			cmp.Compare(a.Code, b.Code),
		)
	})
}
