package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"syscall"
	"time"
)

// recoveryGiveUp is how long a probe waits for the service to answer 2xx
// after a fault before the soak records it as not recovered.
const recoveryGiveUp = time.Minute

// injectFaults strikes a fault every FaultEvery until stop is closed,
// letting the service recover from each before the next, and restarts the
// service whenever it exits by itself. The kinds come in random order, each
// once in every three faults, so that even a short soak meets all of them.
// It returns an error only when the soak cannot go on (the service or
// PostgreSQL would not start again).
func (h *harness) injectFaults(ctx context.Context, stop <-chan struct{}) error {
	rng := rand.New(rand.NewPCG(h.cfg.Seed, 0xfa17))
	var bag []FaultKind
	lo, hi := h.cfg.FaultEvery[0], h.cfg.FaultEvery[1]
	for {
		wait := lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return nil
		case <-h.crashed:
			if err := h.recoverCrash(ctx); err != nil {
				return err
			}
		case <-time.After(wait):
			if h.cfg.NoFaults {
				continue
			}
			if len(bag) == 0 {
				bag = []FaultKind{FaultKill, FaultPGRestart, FaultStop}
				rng.Shuffle(len(bag), func(i, j int) { bag[i], bag[j] = bag[j], bag[i] })
			}
			kind := bag[0]
			bag = bag[1:]
			if err := h.inject(ctx, stop, rng, kind); err != nil {
				return err
			}
		}
	}
}

// inject strikes one fault and waits for the service to recover.
func (h *harness) inject(ctx context.Context, stop <-chan struct{}, rng *rand.Rand, kind FaultKind) error {
	target := ""
	if kind == FaultKill {
		var ok bool
		if target, ok = h.aimAtJob(ctx, stop, rng.IntN(2) == 0); !ok {
			return nil // the run ended while aiming
		}
	}
	at := time.Now()
	i := h.rec.faultStarted(kind, at)
	var healed time.Time
	switch kind {
	case FaultKill:
		if err := h.svc.kill(); err != nil {
			return err
		}
		// The connections to the dead process are dead too.
		h.api.transport.CloseIdleConnections()
		h.probe.transport.CloseIdleConnections()
		// Measured from the kill: the restart is part of the recovery.
		healed = time.Now()
		if err := h.restart(ctx); err != nil {
			return err
		}
	case FaultPGRestart:
		if err := h.pg.crash(ctx); err != nil {
			return fmt.Errorf("crash PostgreSQL: %w", err)
		}
		if err := h.pg.start(ctx); err != nil {
			return fmt.Errorf("restart PostgreSQL: %w", err)
		}
		healed = time.Now()
	case FaultStop:
		if err := h.svc.signal(syscall.SIGSTOP); err != nil {
			return err
		}
		time.Sleep(h.cfg.StopFor)
		if err := h.svc.signal(syscall.SIGCONT); err != nil {
			return err
		}
		healed = time.Now()
	}
	took, ok := h.awaitRecovery(ctx, healed)
	h.rec.faultEnded(i, healed.Add(took), took)
	status := fmt.Sprintf("answered 2xx %v after", took.Round(time.Millisecond))
	if !ok {
		status = "never answered 2xx within a minute of"
	}
	if target != "" {
		target = " (struck while " + target + " was running)"
	}
	fmt.Fprintf(h.cfg.Progress, "soak: %6.1fs %-10s %s %s%s\n", at.Sub(h.runStart).Seconds(), kind, status, healedWhat(kind), target)
	return nil
}

// aimAtJob waits, for up to a reaper interval and a second, until River is
// running a job (a reap_holds when reaper is set), since a crash matters
// most to the jobs then, and returns the job's kind ("" if none ran). ok is
// false if the run ended meanwhile.
func (h *harness) aimAtJob(ctx context.Context, stop <-chan struct{}, reaper bool) (kind string, ok bool) {
	want := ""
	if reaper {
		want = "reap_holds"
	}
	deadline := time.Now().Add(h.cfg.ReaperInterval + time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-stop:
			return "", false
		case <-ctx.Done():
			return "", false
		default:
		}
		// Only the running process's jobs: one a crash left running is no
		// target.
		err := h.db.QueryRow(ctx, `SELECT kind FROM river_job
			WHERE state = 'running' AND attempted_at >= $2 AND ($1 = '' OR kind = $1)
			ORDER BY attempted_at DESC LIMIT 1`, want, h.serviceStart).Scan(&kind)
		if err == nil {
			return kind, true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return "", true
}

func healedWhat(kind FaultKind) string {
	switch kind {
	case FaultKill:
		return "the kill"
	case FaultCrash:
		return "the exit"
	case FaultPGRestart:
		return "PostgreSQL answered again"
	}
	return "SIGCONT"
}

// recoverCrash restarts a service that exited by itself.
func (h *harness) recoverCrash(ctx context.Context) error {
	at := time.Now()
	i := h.rec.faultStarted(FaultCrash, at)
	h.api.transport.CloseIdleConnections()
	h.probe.transport.CloseIdleConnections()
	fmt.Fprintf(h.cfg.Progress, "soak: %6.1fs checkoutd exited by itself; restarting it\n", at.Sub(h.runStart).Seconds())
	if err := h.restart(ctx); err != nil {
		return err
	}
	healed := at
	took, _ := h.awaitRecovery(ctx, healed)
	h.rec.faultEnded(i, healed.Add(took), took)
	return nil
}

// restart starts the service again after it died.
func (h *harness) restart(ctx context.Context) error {
	if err := h.svc.start(ctx); err != nil {
		return fmt.Errorf("restart checkoutd: %w", err)
	}
	_, h.serviceStart, _ = h.svc.current()
	return nil
}

// awaitRecovery probes the service with a stock read, which needs the
// database, until it answers 2xx, and returns how long that took after
// since. ok is false if it gave up.
func (h *harness) awaitRecovery(ctx context.Context, since time.Time) (took time.Duration, ok bool) {
	for time.Since(since) < recoveryGiveUp {
		a, err := h.probe.call(ctx, "probe", http.MethodGet, shopPath("/stock/"+skuName(0)), nil)
		if err == nil && a.ok() {
			return time.Since(since), true
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	return time.Since(since), false
}

// drain lets the service run without faults (restarting it should it exit
// by itself) for the drain time, so the reaper and the webhook deliveries
// catch up.
func (h *harness) drain(ctx context.Context) error {
	end := time.After(h.cfg.Drain)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.crashed:
			if err := h.recoverCrash(ctx); err != nil {
				return err
			}
		case <-end:
			// Events the last reaps raised are given a little longer.
			for wait := time.Now().Add(10 * time.Second); h.deliver.unacknowledged() > 0 && time.Now().Before(wait); {
				time.Sleep(100 * time.Millisecond)
			}
			if n := h.deliver.unacknowledged(); n > 0 {
				fmt.Fprintf(h.cfg.Progress, "soak: %d webhook events still unacknowledged after the drain\n", n)
			}
			return nil
		}
	}
}
