package soak

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// FaultKind is a kind of fault the soak injects.
type FaultKind string

// The faults, and the service exiting without being told to, which the
// soak counts with them.
const (
	FaultKill      FaultKind = "kill9"
	FaultPGRestart FaultKind = "pg_restart"
	FaultStop      FaultKind = "sigstop"
	// FaultCrash is the service exiting by itself; the soak restarts it.
	FaultCrash FaultKind = "unexpected_exit"
)

// faultKinds is the order reports list faults in.
var faultKinds = []FaultKind{FaultKill, FaultPGRestart, FaultStop, FaultCrash}

// failure is how a request failed without an HTTP answer.
type failure string

const (
	// noFailure: the request got an answer.
	noFailure failure = ""
	// connError: the connection was refused or broke.
	connError failure = "conn_error"
	// timeout: no answer within the client's timeout.
	timeout failure = "timeout"
)

// request is one request the soak sent and what came of it.
type request struct {
	// Kind says what the request was for: checkout, adjust, hold, ...
	Kind       string
	Start, End time.Time
	// Status is the HTTP status; 0 when the request failed (Failure).
	Status  int
	Failure failure
}

// label is how the request's result is counted: its status or failure.
func (r request) label() string {
	if r.Failure != noFailure {
		return string(r.Failure)
	}
	return strconv.Itoa(r.Status)
}

// outage is the time a fault made the service unable to answer normally:
// from the fault to the first 2xx after it (End is zero until then).
type outage struct {
	Kind       FaultKind
	Start, End time.Time
}

// allows reports whether the request's failure is what an outage of this
// kind may cause: 503 while the service runs without its database,
// connection errors while the process is dead, timeouts while it is stopped.
func (o outage) allows(r request, grace time.Duration) bool {
	end := o.End
	if end.IsZero() {
		end = r.End
	}
	if r.End.Before(o.Start) || r.Start.After(end.Add(grace)) {
		return false
	}
	switch {
	case r.Status == 503:
		return true
	case r.Failure == connError:
		return o.Kind == FaultKill || o.Kind == FaultCrash
	case r.Failure == timeout:
		return o.Kind == FaultStop
	}
	return false
}

// Recorder collects what a run did: every request's result, the faults and
// how long the service took to recover from each, and what the service
// acknowledged. It is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	byKind   map[string]map[string]int
	failures []request
	outages  []outage
	faults   map[FaultKind]int
	recovery map[FaultKind][]time.Duration
	acks     *Acks
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{
		byKind:   map[string]map[string]int{},
		faults:   map[FaultKind]int{},
		recovery: map[FaultKind][]time.Duration{},
		acks:     NewAcks(),
	}
}

// request records a request's result. Only failures (no answer, or 5xx)
// are kept one by one, to be judged against the outages afterwards.
func (rec *Recorder) request(r request) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	m := rec.byKind[r.Kind]
	if m == nil {
		m = map[string]int{}
		rec.byKind[r.Kind] = m
	}
	m[r.label()]++
	if r.Failure != noFailure || r.Status >= 500 {
		rec.failures = append(rec.failures, r)
	}
}

// faultStarted records a fault and returns its index for faultEnded.
func (rec *Recorder) faultStarted(kind FaultKind, at time.Time) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.faults[kind]++
	rec.outages = append(rec.outages, outage{Kind: kind, Start: at})
	return len(rec.outages) - 1
}

// faultEnded records when the service answered 2xx again after outage i,
// and how long that took after the fault's cause was gone (recovery).
func (rec *Recorder) faultEnded(i int, at time.Time, recovery time.Duration) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.outages[i].End = at
	kind := rec.outages[i].Kind
	rec.recovery[kind] = append(rec.recovery[kind], recovery)
}

// withAcks runs fn with the acknowledgements, under the lock.
func (rec *Recorder) withAcks(fn func(a *Acks)) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	fn(rec.acks)
}

// statusCounts returns the number of requests per status or failure, over
// all kinds.
func (rec *Recorder) statusCounts() map[string]int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := map[string]int{}
	for _, m := range rec.byKind {
		for label, n := range m {
			out[label] += n
		}
	}
	return out
}

// count500 is how many requests were answered 500.
func (rec *Recorder) count500() (n int, kinds []string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for kind, m := range rec.byKind {
		if m["500"] > 0 {
			n += m["500"]
			kinds = append(kinds, fmt.Sprintf("%s %d", kind, m["500"]))
		}
	}
	sort.Strings(kinds)
	return n, kinds
}

// unexplained returns the failed requests no outage accounts for: other
// 5xx than 503 (500s included), and 503s, connection errors and timeouts
// outside the outages that may cause them. A request counts as inside an
// outage until grace after the service recovered, for the requests that
// were under way.
func unexplained(failures []request, outages []outage, grace time.Duration) []request {
	var out []request
	for _, r := range failures {
		if r.Status >= 500 && r.Status != 503 {
			out = append(out, r)
			continue
		}
		if !slices.ContainsFunc(outages, func(o outage) bool { return o.allows(r, grace) }) {
			out = append(out, r)
		}
	}
	return out
}

// snapshot returns copies of what unexplained and the report need.
func (rec *Recorder) snapshot() (failures []request, outages []outage, faults map[FaultKind]int, recovery map[FaultKind][]time.Duration) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	faults = map[FaultKind]int{}
	for k, v := range rec.faults {
		faults[k] = v
	}
	recovery = map[FaultKind][]time.Duration{}
	for k, v := range rec.recovery {
		recovery[k] = slices.Clone(v)
	}
	return slices.Clone(rec.failures), slices.Clone(rec.outages), faults, recovery
}
