-- name: ReserveHold :many
-- Places a hold on every requested line, or on none of them, in one statement.
--
-- Stock rows are locked in (sku, variant_key, location_id) order, the order
-- every statement that locks more than one stock row uses, so two holds never
-- deadlock. Each line first takes free stock from its locations in priority
-- order (splitting across locations when one is short) without touching safety
-- stock; what remains is backordered on the default location, up to the line's
-- backorder limit. The hold and everything after it are only written when
-- every line is covered; the CHECK constraints on stock_levels stand behind
-- this arithmetic.
--
-- The UPDATE sets every column a CHECK constraint of stock_levels reads
-- (on_hand, reserved, backorder_limit) from the locked rows, never from its
-- own view of them. That view is the version the statement's snapshot saw,
-- from before any wait for the lock, and PostgreSQL checks constraints on
-- the new row it forms from that version before it finds the row was
-- updated meanwhile and redoes the update on the newest version: a restock
-- committed during the wait made that stale candidate fail
-- stock_levels_no_oversell although the row actually written was fine.
-- Formed from the locked values, the candidate is the row written, in any
-- plan. CommitHolds, CloseHolds, ApplyStockChange and SetBackorderLimit do
-- the same.
--
-- Returns one row per line (location_id '') when the hold was not placed,
-- either for want of stock (placed = false) or because the idempotency key is
-- already taken; and one row per allocation when it was placed.
WITH req AS (
    SELECT unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key,
           unnest(sqlc.arg(quantities)::bigint[]) AS quantity
),
locked AS (
    SELECT s.sku, s.variant_key, s.location_id, s.on_hand, s.reserved, s.backorder_limit
    FROM stock_levels s
    JOIN req ON req.sku = s.sku AND req.variant_key = s.variant_key
    WHERE s.shop_id = sqlc.arg(shop_id)
    ORDER BY s.sku, s.variant_key, s.location_id
    FOR NO KEY UPDATE OF s
),
levels AS (
    SELECT k.sku, k.variant_key, k.location_id, k.on_hand, k.reserved, k.on_hand - k.reserved AS unreserved,
           k.backorder_limit, loc.priority
    FROM locked k
    JOIN locations loc ON loc.shop_id = sqlc.arg(shop_id) AND loc.id = k.location_id
),
line AS (
    -- net: unreserved stock less safety stock, below zero once the line has
    -- backordered. free: what it can sell from stock on hand. backorder_room:
    -- how much more it may backorder, bounded both by the default row's limit
    -- (less what that row already backordered) and by the line's limit less
    -- what the line as a whole is short.
    SELECT n.sku, n.variant_key, n.quantity, n.net, n.low_stock_threshold,
           greatest(n.net, 0) AS free,
           greatest(least(n.default_room, n.backorder_limit + least(n.net, 0)), 0) AS backorder_room
    FROM (
        -- The line's settings are looked up by the full key (LATERAL) on
        -- purpose: a plain join here can be planned as a scan of every line
        -- of the shop.
        SELECT q.sku, q.variant_key, q.quantity,
               coalesce(sum(v.unreserved), 0) - coalesce(max(sl.safety_stock), 0) AS net,
               coalesce(max(sl.low_stock_threshold), sqlc.arg(default_threshold)::bigint) AS low_stock_threshold,
               coalesce(sum(v.backorder_limit + least(v.unreserved, 0)) FILTER (WHERE v.location_id = 'default'), 0) AS default_room,
               coalesce(sum(v.backorder_limit), 0) AS backorder_limit
        FROM req q
        LEFT JOIN levels v ON v.sku = q.sku AND v.variant_key = q.variant_key
        LEFT JOIN LATERAL (
            SELECT sl.safety_stock, sl.low_stock_threshold FROM stock_lines sl
            WHERE sl.shop_id = sqlc.arg(shop_id) AND sl.sku = q.sku AND sl.variant_key = q.variant_key
        ) sl ON true
        GROUP BY q.sku, q.variant_key, q.quantity
    ) n
),
free_take AS (
    SELECT v.sku, v.variant_key, v.location_id,
           least(
               greatest(v.unreserved, 0),
               greatest(least(l.quantity, l.free)
                   - coalesce(sum(greatest(v.unreserved, 0)) OVER (
                         PARTITION BY v.sku, v.variant_key
                         ORDER BY v.priority, v.location_id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0)
           ) AS take
    FROM levels v
    JOIN line l ON l.sku = v.sku AND l.variant_key = v.variant_key
),
line_free_taken AS (
    SELECT f.sku, f.variant_key, sum(f.take) AS taken
    FROM free_take f
    GROUP BY f.sku, f.variant_key
),
alloc AS (
    SELECT f.sku, f.variant_key, f.location_id,
           f.take + b.backordered AS quantity,
           b.backordered
    FROM free_take f
    JOIN line l ON l.sku = f.sku AND l.variant_key = f.variant_key
    JOIN line_free_taken t ON t.sku = f.sku AND t.variant_key = f.variant_key
    CROSS JOIN LATERAL (
        SELECT CASE WHEN f.location_id = 'default'
                    THEN least(l.quantity - t.taken, l.backorder_room)
                    ELSE 0 END AS backordered
    ) b
),
verdict AS (
    SELECT bool_and(coalesce(a.quantity, 0) = l.quantity) AS ok
    FROM line l
    LEFT JOIN (
        SELECT sku, variant_key, sum(quantity) AS quantity FROM alloc GROUP BY sku, variant_key
    ) a ON a.sku = l.sku AND a.variant_key = l.variant_key
),
new_hold AS (
    INSERT INTO holds (shop_id, id, status, expires_at, idempotency_key, reference, checkout_mode)
    -- Whole seconds, rounded down: the expiry the API shows is the true
    -- one, and never past now + the TTL asked for (or the longest TTL).
    SELECT sqlc.arg(shop_id), sqlc.arg(hold_id), 'active',
           date_trunc('second', now() + make_interval(secs => sqlc.arg(ttl_seconds)::int)),
           sqlc.narg(idempotency_key), sqlc.arg(reference), sqlc.narg(checkout_mode)
    FROM verdict
    WHERE verdict.ok
    ON CONFLICT (shop_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, expires_at, created_at
),
taken AS (
    SELECT a.sku, a.variant_key, a.location_id, a.quantity, a.backordered, new_hold.expires_at
    FROM alloc a, new_hold
    WHERE a.quantity > 0
),
inserted_allocations AS (
    INSERT INTO hold_allocations (shop_id, hold_id, sku, variant_key, location_id, quantity, backordered, open_until)
    SELECT sqlc.arg(shop_id), sqlc.arg(hold_id), t.sku, t.variant_key, t.location_id, t.quantity, t.backordered, t.expires_at
    FROM taken t
),
reserved AS (
    UPDATE stock_levels s
    SET on_hand = k.on_hand,
        reserved = k.reserved + t.quantity,
        backorder_limit = k.backorder_limit,
        updated_at = now()
    FROM taken t
    JOIN locked k ON k.sku = t.sku AND k.variant_key = t.variant_key AND k.location_id = t.location_id
    WHERE s.shop_id = sqlc.arg(shop_id)
      AND s.sku = t.sku AND s.variant_key = t.variant_key AND s.location_id = t.location_id
),
recorded AS (
    INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, hold_id)
    SELECT sqlc.arg(shop_id), t.sku, t.variant_key, t.location_id, 'RESERVATION', t.quantity, sqlc.arg(reference), sqlc.arg(hold_id)
    FROM taken t
),
-- Lines this hold leaves at or below their low-stock threshold get a check,
-- in this transaction. Most holds leave plenty and write nothing here.
low AS (
    INSERT INTO stock_checks (shop_id, sku, variant_key)
    SELECT sqlc.arg(shop_id), l.sku, l.variant_key
    FROM line l, new_hold
    WHERE l.net - l.quantity <= l.low_stock_threshold
    ON CONFLICT DO NOTHING
)
SELECT l.sku::text AS sku,
       l.variant_key::text AS variant_key,
       l.quantity::bigint AS requested,
       (l.free + l.backorder_room)::bigint AS available,
       coalesce((SELECT ok FROM verdict), false)::boolean AS ok,
       (h.id IS NOT NULL)::boolean AS placed,
       coalesce(t.location_id, '')::text AS location_id,
       coalesce(t.quantity, 0)::bigint AS allocated,
       coalesce(t.backordered, 0)::bigint AS backordered,
       coalesce(h.expires_at, now())::timestamptz AS expires_at,
       coalesce(h.created_at, now())::timestamptz AS created_at
FROM line l
LEFT JOIN taken t ON t.sku = l.sku AND t.variant_key = l.variant_key
LEFT JOIN locations loc ON loc.shop_id = sqlc.arg(shop_id) AND loc.id = t.location_id
LEFT JOIN new_hold h ON true
ORDER BY l.sku, l.variant_key, loc.priority, t.location_id;

-- name: GetHold :one
-- lapsed tells, by the database's clock, whether an open hold no longer
-- holds stock (hold_open_until has passed), whether or not the reaper has
-- run; expiring, whether it is past its expiry but still holds its stock
-- until Stripe closes its session.
SELECT h.shop_id, h.id, h.status, h.expires_at, h.idempotency_key, h.reference,
       h.checkout_session_id, h.checkout_session_expires_at, h.created_at,
       coalesce(hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) <= now(), false)::boolean AS lapsed,
       (h.status = 'expiring' OR h.status = 'active' AND h.checkout_session_expires_at IS NOT NULL AND h.expires_at <= now())::boolean AS expiring
FROM holds h
WHERE h.shop_id = sqlc.arg(shop_id) AND h.id = sqlc.arg(id);

-- name: GetHoldIDByIdempotencyKey :one
SELECT id FROM holds
WHERE shop_id = sqlc.arg(shop_id) AND idempotency_key = sqlc.arg(idempotency_key)::text;

-- name: ListHoldAllocations :many
SELECT a.sku, a.variant_key, a.location_id, a.quantity, a.backordered
FROM hold_allocations a
LEFT JOIN locations loc ON loc.shop_id = a.shop_id AND loc.id = a.location_id
WHERE a.shop_id = sqlc.arg(shop_id) AND a.hold_id = sqlc.arg(hold_id)
ORDER BY a.sku, a.variant_key, loc.priority, a.location_id;

-- name: CommitHolds :many
-- Commits open, unexpired holds: their units leave on_hand and reserved
-- together, with a SALE movement per allocation. It takes many holds, so
-- that a group of commits (group_exec.go) is one statement; a lone commit
-- passes one. Each (shop_id, hold_id) must appear once. Like ReserveHold, it
-- sets every column the stock_levels CHECKs read from the locked rows, and
-- it sums what several holds give back to one row before it updates it.
-- Returns a row per allocation of each hold it committed, and nothing for a
-- hold that was not open (or had lapsed): the caller looks at why. A hold
-- waiting for Stripe to close its session (expiring) still holds its stock,
-- so its payment commits it.
WITH req AS (
    SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id,
           unnest(sqlc.arg(hold_ids)::text[]) AS id,
           unnest(sqlc.arg(commit_references)::text[]) AS reference
),
closed AS (
    UPDATE holds h
    SET status = 'committed',
        commit_reference = r.reference,
        closed_at = now(),
        updated_at = now()
    FROM req r
    WHERE h.shop_id = r.shop_id
      AND h.id = r.id
      AND h.status IN ('active', 'pending_payment', 'expiring')
      AND hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) > now()
    RETURNING h.shop_id, h.id, h.expires_at, h.created_at, h.reference, h.checkout_session_id, h.checkout_session_expires_at, h.checkout_mode,
              r.reference AS commit_reference
),
alloc AS (
    SELECT a.shop_id, a.hold_id, a.sku, a.variant_key, a.location_id, a.quantity, a.backordered
    FROM hold_allocations a
    JOIN closed c ON c.shop_id = a.shop_id AND c.id = a.hold_id
),
per_level AS (
    SELECT a.shop_id, a.sku, a.variant_key, a.location_id, sum(a.quantity) AS quantity
    FROM alloc a
    GROUP BY a.shop_id, a.sku, a.variant_key, a.location_id
),
locked AS (
    SELECT s.shop_id, s.sku, s.variant_key, s.location_id, s.on_hand, s.reserved, s.backorder_limit
    FROM stock_levels s
    JOIN per_level p ON p.shop_id = s.shop_id AND p.sku = s.sku AND p.variant_key = s.variant_key AND p.location_id = s.location_id
    ORDER BY s.shop_id, s.sku, s.variant_key, s.location_id
    FOR NO KEY UPDATE OF s
),
sold AS (
    UPDATE stock_levels s
    SET on_hand = k.on_hand - p.quantity,
        reserved = k.reserved - p.quantity,
        backorder_limit = k.backorder_limit,
        updated_at = now()
    FROM per_level p
    JOIN locked k ON k.shop_id = p.shop_id AND k.sku = p.sku AND k.variant_key = p.variant_key AND k.location_id = p.location_id
    WHERE s.shop_id = p.shop_id AND s.sku = p.sku AND s.variant_key = p.variant_key AND s.location_id = p.location_id
),
recorded AS (
    INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, notes, hold_id)
    SELECT a.shop_id, a.sku, a.variant_key, a.location_id, 'SALE', -a.quantity, c.commit_reference,
           coalesce(c.checkout_mode, ''), a.hold_id
    FROM alloc a
    JOIN closed c ON c.shop_id = a.shop_id AND c.id = a.hold_id
)
SELECT c.shop_id::text AS shop_id, c.id::text AS hold_id, c.expires_at, c.created_at, c.reference, c.checkout_session_id,
       c.checkout_session_expires_at, a.sku, a.variant_key, a.location_id, a.quantity, a.backordered
FROM closed c
JOIN alloc a ON a.shop_id = c.shop_id AND a.hold_id = c.id
LEFT JOIN locations loc ON loc.shop_id = c.shop_id AND loc.id = a.location_id
ORDER BY c.shop_id, c.id, a.sku, a.variant_key, loc.priority, a.location_id;

-- name: LockDueHolds :many
-- Picks active and pending_payment holds whose expiry passed before now for
-- the reaper: it closes them, or moves those bound to an open Stripe
-- session to expiring. SKIP LOCKED lets several reapers, and commits in
-- flight, work side by side.
-- bound tells the holds that keep their stock for their session; one whose
-- session expired longer than the grace ago is simply expired.
SELECT shop_id, id,
       (status = 'active' AND checkout_session_expires_at IS NOT NULL
        AND hold_open_until(status, expires_at, checkout_session_expires_at) > sqlc.arg(now)::timestamptz)::boolean AS bound
FROM holds
WHERE status IN ('active', 'pending_payment')
  AND expires_at <= sqlc.arg(now)::timestamptz
ORDER BY expires_at
LIMIT sqlc.arg(max)
FOR NO KEY UPDATE SKIP LOCKED;

-- name: LockDueExpiringHolds :many
-- Picks expiring holds Stripe never answered for, five minutes past their
-- session's own expiry (hold_open_until), for the reaper to release: Stripe
-- has closed the page itself by then.
SELECT shop_id, id
FROM holds
WHERE status = 'expiring'
  AND hold_open_until(status, expires_at, checkout_session_expires_at) <= sqlc.arg(now)::timestamptz
ORDER BY hold_open_until(status, expires_at, checkout_session_expires_at)
LIMIT sqlc.arg(max)
FOR NO KEY UPDATE SKIP LOCKED;

-- name: MarkHoldsExpiring :many
-- Moves lapsed active holds bound to a Stripe session to expiring: they keep
-- their stock (their allocations' open_until does not change) while Stripe
-- is asked to close the session. The caller has locked them.
UPDATE holds h
SET status = 'expiring',
    updated_at = now()
FROM (SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id, unnest(sqlc.arg(hold_ids)::text[]) AS id) k
WHERE h.shop_id = k.shop_id AND h.id = k.id
  AND h.status = 'active'
  AND h.checkout_session_expires_at IS NOT NULL
  AND h.expires_at <= sqlc.arg(now)
RETURNING h.shop_id, h.id, h.checkout_session_id;

-- name: LockLapsedHoldsOnLines :many
-- Picks a shop's lapsed open holds that reserve any of the given lines, so a
-- request that found them in its way can close them itself instead of
-- waiting for the reaper. It waits for holds a reaper is closing rather than
-- skipping them, so the caller sees their stock back when it returns.
--
-- The lapsed holds are found through their allocations on the lines (the
-- open allocations index), so the cost is that of the lines' own backlog,
-- not of every lapsed hold. The hold itself is checked again once locked.
-- They are locked in (shop_id, id) order, the order a group locks the holds
-- it closes in (LockGroupHolds), so the two cannot deadlock.
SELECT h.shop_id, h.id
FROM holds h
WHERE h.shop_id = sqlc.arg(shop_id)
  AND h.id IN (
      SELECT a.hold_id
      FROM (SELECT unnest(sqlc.arg(skus)::text[]) AS sku, unnest(sqlc.arg(variant_keys)::text[]) AS variant_key) r
      JOIN hold_allocations a
          ON a.shop_id = sqlc.arg(shop_id) AND a.sku = r.sku AND a.variant_key = r.variant_key
      WHERE a.open_until <= now()
  )
  AND h.status IN ('active', 'pending_payment', 'expiring')
  AND hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) <= now()
ORDER BY h.shop_id, h.id
LIMIT 1000
FOR NO KEY UPDATE;

-- name: CloseHolds :many
-- Releases or expires open holds (status is 'released' or 'expired') and gives
-- their units back to available stock, with a RELEASE movement per
-- allocation. Only holds whose stock stops counting (hold_open_until) at or
-- before due_before are touched, so expiry never closes a hold that was
-- extended meanwhile; a release, and Stripe's word that a session closed,
-- pass 'infinity'. With unlapsed_only (a release), a hold past its expiry is
-- left alone: it has expired, or waits for Stripe, and the caller closes it
-- as such. Like ReserveHold, it sets every column the stock_levels CHECKs
-- read from the locked rows.
WITH closed AS (
    UPDATE holds h
    SET status = sqlc.arg(status)::text,
        release_reason = sqlc.arg(reason)::text,
        closed_at = now(),
        updated_at = now()
    FROM (SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id, unnest(sqlc.arg(hold_ids)::text[]) AS id) k
    WHERE h.shop_id = k.shop_id AND h.id = k.id
      AND h.status IN ('active', 'pending_payment', 'expiring')
      AND hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) <= sqlc.arg(due_before)::timestamptz
      AND NOT (sqlc.arg(unlapsed_only)::boolean AND (h.status = 'expiring' OR h.expires_at <= now()))
    RETURNING h.shop_id, h.id, h.checkout_session_id
),
alloc AS (
    SELECT a.shop_id, a.hold_id, a.sku, a.variant_key, a.location_id, a.quantity
    FROM hold_allocations a
    JOIN closed c ON c.shop_id = a.shop_id AND c.id = a.hold_id
),
per_level AS (
    SELECT a.shop_id, a.sku, a.variant_key, a.location_id, sum(a.quantity) AS quantity
    FROM alloc a
    GROUP BY a.shop_id, a.sku, a.variant_key, a.location_id
),
locked AS (
    SELECT s.shop_id, s.sku, s.variant_key, s.location_id, s.on_hand, s.reserved, s.backorder_limit
    FROM stock_levels s
    JOIN per_level p ON p.shop_id = s.shop_id AND p.sku = s.sku AND p.variant_key = s.variant_key AND p.location_id = s.location_id
    ORDER BY s.shop_id, s.sku, s.variant_key, s.location_id
    FOR NO KEY UPDATE OF s
),
released AS (
    UPDATE stock_levels s
    SET on_hand = k.on_hand,
        reserved = k.reserved - p.quantity,
        backorder_limit = k.backorder_limit,
        updated_at = now()
    FROM per_level p
    JOIN locked k ON k.shop_id = p.shop_id AND k.sku = p.sku AND k.variant_key = p.variant_key AND k.location_id = p.location_id
    WHERE s.shop_id = p.shop_id AND s.sku = p.sku AND s.variant_key = p.variant_key AND s.location_id = p.location_id
),
recorded AS (
    INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, hold_id)
    SELECT a.shop_id, a.sku, a.variant_key, a.location_id, 'RELEASE', -a.quantity, sqlc.arg(reason), a.hold_id
    FROM alloc a
)
SELECT c.shop_id, c.id, c.checkout_session_id FROM closed c;

-- name: ExtendHold :execrows
-- Pushes an active hold's expiry ttl further out, but never past now + the
-- longest TTL (max_ttl_seconds): repeated extensions cannot keep stock for
-- longer than one hold may last. A hold bound to a Stripe session never
-- goes past the session's expiry: Stripe closes the page then. Whole
-- seconds, rounded down, as ReserveHold has them: rounding up would pass
-- the cap.
UPDATE holds
SET expires_at = greatest(expires_at, date_trunc('second', least(
        expires_at + make_interval(secs => sqlc.arg(ttl_seconds)::int),
        now() + make_interval(secs => sqlc.arg(max_ttl_seconds)::int),
        coalesce(checkout_session_expires_at, 'infinity')))),
    updated_at = now()
WHERE shop_id = sqlc.arg(shop_id)
  AND id = sqlc.arg(id)
  AND status = 'active'
  AND expires_at > now();

-- name: AwaitHoldPayment :execrows
-- Keeps an open hold's stock for a payment that is on its way (a delayed
-- payment method): pending_payment, until at least now + the given hours.
UPDATE holds
SET status = 'pending_payment',
    expires_at = greatest(expires_at, date_trunc('second', now() + make_interval(hours => sqlc.arg(hours)::int))),
    updated_at = now()
WHERE shop_id = sqlc.arg(shop_id)
  AND id = sqlc.arg(id)
  AND status IN ('active', 'pending_payment', 'expiring')
  AND hold_open_until(status, expires_at, checkout_session_expires_at) > now();

-- name: AttachCheckoutSession :exec
-- Records on a hold the Checkout Session that sells it, so the reaper can
-- expire the session when the hold lapses. From now on the hold keeps its
-- stock until Stripe can no longer take payment (hold_open_until): the
-- trigger moves its allocations' open_until.
UPDATE holds
SET checkout_session_id = sqlc.arg(stripe_session_id),
    checkout_session_expires_at = sqlc.arg(expires_at),
    updated_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);
