package soak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd/inventory"
)

// The invariants, in the order they are checked and reported.
const (
	invLedger      = "ledger check clean"
	invOversell    = "no oversell"
	invExactlyOnce = "every acknowledged session, webhook, commit and adjustment applied exactly once"
	invHolds       = "no hold open past its bound + one reaper interval"
	invNo500       = "no 500 at all"
	invOutages     = "only 503 during outages, recovery within the bound"
	invJobs        = "no River job left running past its bound"
	invPaidOK      = "no paid order oversold"
)

// reapSlack is added to the reaper interval before an open lapsed hold
// counts as left behind: River's periodic job is enqueued and fetched with
// up to about a second's delay each.
const reapSlack = 2 * time.Second

// maxListed caps the problems a check lists; the rest are counted.
const maxListed = 5

// check runs every invariant against the database and the recorder.
func (h *harness) check(ctx context.Context) []Check {
	pool := h.db
	return []Check{
		h.checkLedger(ctx, pool),
		h.checkOversell(ctx, pool),
		h.checkExactlyOnce(ctx, pool),
		h.checkHolds(ctx, pool),
		h.checkNo500(),
		h.checkOutages(),
		h.checkJobs(ctx, pool),
		h.checkPaidOversold(ctx),
	}
}

func (h *harness) checkLedger(ctx context.Context, pool *pgxpool.Pool) Check {
	report, err := inventory.NewLedger(pool, inventory.Config{}).CheckLedger(ctx, "")
	if err != nil {
		return Check{Name: invLedger, Detail: err.Error()}
	}
	if len(report.Discrepancies) == 0 {
		return Check{Name: invLedger, Passed: true, Detail: fmt.Sprintf("%d stock rows add up", report.RowsChecked)}
	}
	lines := make([]string, len(report.Discrepancies))
	for i, d := range report.Discrepancies {
		lines[i] = d.String()
	}
	return Check{Name: invLedger, Detail: listed(fmt.Sprintf("%d discrepancies", len(lines)), lines)}
}

func (h *harness) checkOversell(ctx context.Context, pool *pgxpool.Pool) Check {
	var past int
	err := pool.QueryRow(ctx, `SELECT count(*) FROM stock_levels WHERE shop_id = $1
		AND (on_hand - reserved < -backorder_limit OR reserved < 0 OR (backorder_limit = 0 AND on_hand < 0))`,
		shopID).Scan(&past)
	if err != nil {
		return Check{Name: invOversell, Detail: err.Error()}
	}
	// Lines without backorder never sell more than was ever put in.
	rows, err := pool.Query(ctx, `SELECT m.sku, m.variant_key,
			coalesce(sum(-m.quantity) FILTER (WHERE m.type = 'SALE'), 0)::bigint,
			coalesce(sum(m.quantity) FILTER (WHERE m.type NOT IN ('SALE', 'RESERVATION', 'RELEASE') AND m.quantity > 0), 0)::bigint
		FROM movements m
		WHERE m.shop_id = $1 AND NOT EXISTS (SELECT 1 FROM stock_levels s
			WHERE s.shop_id = m.shop_id AND s.sku = m.sku AND s.variant_key = m.variant_key AND s.backorder_limit > 0)
		GROUP BY m.sku, m.variant_key ORDER BY m.sku, m.variant_key`, shopID)
	if err != nil {
		return Check{Name: invOversell, Detail: err.Error()}
	}
	var problems []string
	var sold int64
	for rows.Next() {
		var sku, variant string
		var s, received int64
		if err := rows.Scan(&sku, &variant, &s, &received); err != nil {
			return Check{Name: invOversell, Detail: err.Error()}
		}
		sold += s
		if s > received {
			problems = append(problems, fmt.Sprintf("%s[%s] sold %d of %d received", sku, variant, s, received))
		}
	}
	if err := rows.Err(); err != nil {
		return Check{Name: invOversell, Detail: err.Error()}
	}
	if past > 0 {
		problems = append([]string{fmt.Sprintf("%d stock rows past their CHECK", past)}, problems...)
	}
	figures := fmt.Sprintf("%d units sold, none past the stock", sold)
	if len(problems) > 0 {
		return Check{Name: invOversell, Detail: listed(figures, problems)}
	}
	return Check{Name: invOversell, Passed: true, Detail: figures}
}

func (h *harness) checkExactlyOnce(ctx context.Context, pool *pgxpool.Pool) Check {
	snap, err := readSnapshot(ctx, pool)
	if err != nil {
		return Check{Name: invExactlyOnce, Detail: err.Error()}
	}
	var checked int
	var problems []string
	var figures string
	h.rec.withAcks(func(acks *Acks) {
		checked, problems = Account(acks, h.stripe.accounts(), snap)
		committed := 0
		for _, hd := range acks.Holds {
			if hd.Committed {
				committed++
			}
		}
		figures = fmt.Sprintf("%d checked: %d sessions, %d paid and %d expired webhooks, %d holds (%d commits), %d adjustments (+%d never acknowledged)",
			checked, len(acks.Checkouts), len(acks.PaidEvents), len(acks.ExpiredEvents), len(acks.Holds), committed, len(acks.Adjustments), len(acks.Unacked))
	})
	if len(problems) > 0 {
		return Check{Name: invExactlyOnce, Detail: listed(figures, problems)}
	}
	return Check{Name: invExactlyOnce, Passed: true, Detail: figures}
}

func (h *harness) checkHolds(ctx context.Context, pool *pgxpool.Pool) Check {
	allowed := h.cfg.ReaperInterval + reapSlack
	// The reaper is due at an active or pending_payment hold's expiry, to
	// close it or, when it is bound to a session, to make it expiring; at an
	// expiring hold's session expiry + 5 minutes (hold_open_until), should
	// Stripe never have answered for it.
	var n int
	var worst float64
	err := pool.QueryRow(ctx, `SELECT count(*), coalesce(max(overdue), 0)::float8
		FROM (SELECT extract(epoch FROM now() - CASE WHEN status = 'expiring'
				THEN hold_open_until(status, expires_at, checkout_session_expires_at) ELSE expires_at END) AS overdue
			FROM holds WHERE shop_id = $1 AND status IN ('active', 'pending_payment', 'expiring')) o
		WHERE overdue > $2`, shopID, allowed.Seconds()).Scan(&n, &worst)
	if err != nil {
		return Check{Name: invHolds, Detail: err.Error()}
	}
	// Stripe's word releases an expiring hold: once checkoutd acknowledged
	// that a session expired, its hold must be closed.
	rows, err := pool.Query(ctx, `SELECT id, coalesce(checkout_session_id, '') FROM holds
		WHERE shop_id = $1 AND status = 'expiring' ORDER BY id`, shopID)
	if err != nil {
		return Check{Name: invHolds, Detail: err.Error()}
	}
	type expiring struct {
		ID, SessionID string
	}
	held, err := pgx.CollectRows(rows, pgx.RowToStructByPos[expiring])
	if err != nil {
		return Check{Name: invHolds, Detail: err.Error()}
	}
	expiredAcked := map[string]bool{}
	h.rec.withAcks(func(acks *Acks) {
		for _, sid := range acks.ExpiredEvents {
			expiredAcked[sid] = true
		}
	})
	statuses := h.stripe.statuses()
	var problems []string
	byStatus := map[string]int{}
	for _, e := range held {
		byStatus[statuses[e.SessionID]]++
		if expiredAcked[e.SessionID] {
			problems = append(problems, fmt.Sprintf("hold %s still expiring after checkoutd acknowledged that session %s expired", e.ID, e.SessionID))
		}
	}
	figures := fmt.Sprintf("none open more than %v past its bound (expiry; an expiring hold's session expiry + 5m)", allowed)
	if len(held) > 0 {
		figures += fmt.Sprintf("; %d expiring at the end, their sessions at Stripe: %s", len(held), formatCounts(byStatus))
	}
	if n > 0 || len(problems) > 0 {
		summary := fmt.Sprintf("%d holds open more than %v past their bound, the worst %.0fs; %d expiring at the end, %d of them after Stripe's word",
			n, allowed, worst, len(held), len(problems))
		return Check{Name: invHolds, Detail: listed(summary, problems)}
	}
	return Check{Name: invHolds, Passed: true, Detail: figures}
}

// oversoldOrder is the part of the API's OversoldOrder the report shows.
type oversoldOrder struct {
	ID              string    `json:"id"`
	CheckoutID      string    `json:"checkoutId"`
	StripeSessionID string    `json:"stripeSessionId"`
	CreatedAt       time.Time `json:"createdAt"`
	Shortfall       []struct {
		SKU        string `json:"sku"`
		VariantKey string `json:"variantKey"`
		Requested  int64  `json:"requested"`
		Available  int64  `json:"available"`
	} `json:"shortfall"`
}

// checkPaidOversold lists the shop's oversold orders through the API, as an
// operator would: a reserve_ttl checkout's stock is held until Stripe can no
// longer take payment, so none may be oversold. The soak's lines allow no
// backorder, so no shortfall is excused by one.
func (h *harness) checkPaidOversold(ctx context.Context) Check {
	paid := len(h.stripe.accounts().Paid)
	var orders []oversoldOrder
	for cursor := ""; ; {
		path := shopPath("/oversold?limit=500")
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		a, err := h.api.call(ctx, "verify", http.MethodGet, path, nil)
		if err != nil || !a.ok() {
			return Check{Name: invPaidOK, Detail: fmt.Sprintf("list the oversold orders: status %d, %v: %s", a.Status, err, a.Body)}
		}
		var page struct {
			Items      []oversoldOrder `json:"items"`
			NextCursor *string         `json:"nextCursor"`
		}
		if err := a.decode(&page); err != nil {
			return Check{Name: invPaidOK, Detail: fmt.Sprintf("list the oversold orders: %v", err)}
		}
		orders = append(orders, page.Items...)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	figures := fmt.Sprintf("%d of %d paid orders oversold", len(orders), paid)
	if len(orders) == 0 {
		return Check{Name: invPaidOK, Passed: true, Detail: figures}
	}
	problems := make([]string, len(orders))
	for i, o := range orders {
		short := make([]string, len(o.Shortfall))
		for j, s := range o.Shortfall {
			short[j] = fmt.Sprintf("%s %d wanted, %d available", lineKey(s.SKU, s.VariantKey), s.Requested, s.Available)
		}
		problems[i] = fmt.Sprintf("%s at %.1fs: checkout %s (session %s): %s",
			o.ID, o.CreatedAt.Sub(h.runStart).Seconds(), o.CheckoutID, o.StripeSessionID, strings.Join(short, "; "))
	}
	return Check{Name: invPaidOK, Detail: listed(figures, problems)}
}

func (h *harness) checkNo500() Check {
	n, kinds := h.rec.count500()
	if n > 0 {
		return Check{Name: invNo500, Detail: fmt.Sprintf("%d answered 500 (%s)", n, strings.Join(kinds, ", "))}
	}
	return Check{Name: invNo500, Passed: true, Detail: "none"}
}

func (h *harness) checkOutages() Check {
	failures, outages, _, recovery := h.rec.snapshot()
	var problems []string
	for _, r := range unexplained(failures, outages, outageGrace) {
		why := "outside any outage that explains it"
		if r.Status >= 500 && r.Status != 503 {
			why = "(only 503 may answer an outage)"
		}
		problems = append(problems, fmt.Sprintf("%s %s at %.1fs %s", r.Kind, r.label(), r.Start.Sub(h.runStart).Seconds(), why))
	}
	for _, o := range outages {
		if o.End.IsZero() {
			problems = append(problems, fmt.Sprintf("%s at %.1fs: never recovered", o.Kind, o.Start.Sub(h.runStart).Seconds()))
		}
	}
	pg := recovery[FaultPGRestart]
	for _, d := range pg {
		if d > h.cfg.RecoveryBound {
			problems = append(problems, fmt.Sprintf("%v to answer 2xx after PostgreSQL came back, over %v", d.Round(time.Millisecond), h.cfg.RecoveryBound))
		}
	}
	figures := fmt.Sprintf("%d failed requests, all during outages; recovery after PostgreSQL restarts %s", len(failures), durations(pg))
	if len(failures) == 0 {
		figures = fmt.Sprintf("no failed requests; recovery after PostgreSQL restarts %s", durations(pg))
	}
	if len(problems) > 0 {
		figures = fmt.Sprintf("%d failed requests; recovery after PostgreSQL restarts %s", len(failures), durations(pg))
		return Check{Name: invOutages, Detail: listed(figures, problems)}
	}
	return Check{Name: invOutages, Passed: true, Detail: figures}
}

// outageGrace is how long after the service recovered a failure may still
// come from an outage: requests sent before the recovery was seen.
const outageGrace = time.Second

func (h *harness) checkJobs(ctx context.Context, pool *pgxpool.Pool) Check {
	rows, err := pool.Query(ctx, `SELECT kind, count(*), max(extract(epoch FROM now() - attempted_at))::float8
		FROM river_job WHERE state = 'running' AND attempted_at < now() - make_interval(secs => $1)
		GROUP BY kind ORDER BY kind`, h.cfg.JobBound.Seconds())
	if err != nil {
		return Check{Name: invJobs, Detail: err.Error()}
	}
	type stuck struct {
		Kind  string
		N     int
		Worst float64
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[stuck])
	if err != nil {
		return Check{Name: invJobs, Detail: err.Error()}
	}
	if len(list) == 0 {
		return Check{Name: invJobs, Passed: true, Detail: fmt.Sprintf("none running longer than %v", h.cfg.JobBound)}
	}
	lines := make([]string, len(list))
	for i, s := range list {
		lines[i] = fmt.Sprintf("%d %s running, the oldest for %.0fs", s.N, s.Kind, s.Worst)
	}
	return Check{Name: invJobs, Detail: listed(fmt.Sprintf("jobs running longer than %v", h.cfg.JobBound), lines)}
}

// listed joins a summary and the first maxListed problems.
func listed(summary string, problems []string) string {
	var b strings.Builder
	b.WriteString(summary)
	for i, p := range problems {
		if i == maxListed {
			fmt.Fprintf(&b, "\n      ... and %d more", len(problems)-maxListed)
			break
		}
		b.WriteString("\n      " + p)
	}
	return b.String()
}

// readSnapshot reads what Account compares the acknowledgements with.
func readSnapshot(ctx context.Context, pool *pgxpool.Pool) (Snapshot, error) {
	s := Snapshot{
		Checkouts: map[string]CheckoutRow{}, Holds: map[string]HoldRow{},
		Sales: map[string]Units{}, Allocations: map[string]Units{}, SaleLines: map[string]map[string]int64{}, Oversold: map[string]int{},
		Adjustments: map[string]Units{}, Events: map[string]bool{},
	}
	type query struct {
		sql  string
		scan func(pgx.Rows) error
	}
	units := func(m map[string]Units) func(pgx.Rows) error {
		return func(rows pgx.Rows) error {
			var k string
			var u Units
			err := rows.Scan(&k, &u.Rows, &u.Units)
			m[k] = u
			return err
		}
	}
	queries := []query{
		{`SELECT idempotency_key, id, coalesce(hold_id, ''), coalesce(stripe_session_id, ''), status
			FROM checkouts WHERE shop_id = $1 AND idempotency_key IS NOT NULL`, func(rows pgx.Rows) error {
			var key string
			var c CheckoutRow
			err := rows.Scan(&key, &c.ID, &c.HoldID, &c.SessionID, &c.Status)
			s.Checkouts[key] = c
			return err
		}},
		{`SELECT id, status, coalesce(checkout_session_id, '') FROM holds WHERE shop_id = $1`, func(rows pgx.Rows) error {
			var hr HoldRow
			err := rows.Scan(&hr.ID, &hr.Status, &hr.SessionID)
			s.Holds[hr.ID] = hr
			return err
		}},
		{`SELECT hold_id, count(*), sum(-quantity)::bigint FROM movements
			WHERE shop_id = $1 AND type = 'SALE' AND hold_id IS NOT NULL GROUP BY hold_id`, units(s.Sales)},
		{`SELECT hold_id, sku, variant_key, sum(-quantity)::bigint FROM movements
			WHERE shop_id = $1 AND type = 'SALE' AND hold_id IS NOT NULL GROUP BY hold_id, sku, variant_key`, func(rows pgx.Rows) error {
			var hold, sku, variant string
			var n int64
			err := rows.Scan(&hold, &sku, &variant, &n)
			if s.SaleLines[hold] == nil {
				s.SaleLines[hold] = map[string]int64{}
			}
			s.SaleLines[hold][lineKey(sku, variant)] = n
			return err
		}},
		{`SELECT hold_id, count(*), sum(quantity)::bigint FROM hold_allocations WHERE shop_id = $1 GROUP BY hold_id`, units(s.Allocations)},
		{`SELECT reference, count(*), sum(quantity)::bigint FROM movements
			WHERE shop_id = $1 AND type = 'ADJUSTMENT' GROUP BY reference`, units(s.Adjustments)},
		{`SELECT checkout_id, count(*) FROM oversold_orders WHERE shop_id = $1 GROUP BY checkout_id`, func(rows pgx.Rows) error {
			var id string
			var n int
			err := rows.Scan(&id, &n)
			s.Oversold[id] = n
			return err
		}},
		{`SELECT id FROM stripe_events WHERE shop_id = $1`, func(rows pgx.Rows) error {
			var id string
			err := rows.Scan(&id)
			s.Events[id] = true
			return err
		}},
	}
	for _, q := range queries {
		rows, err := pool.Query(ctx, q.sql, shopID)
		if err != nil {
			return s, fmt.Errorf("read the database: %w", err)
		}
		for rows.Next() {
			if err := q.scan(rows); err != nil {
				rows.Close()
				return s, fmt.Errorf("read the database: %w", err)
			}
		}
		if err := rows.Err(); err != nil {
			return s, fmt.Errorf("read the database: %w", err)
		}
	}
	return s, nil
}
