-- name: LockGroupHolds :exec
-- Locks the open holds a group of commits and releases closes, before
-- anything else the group does: holds before stock rows is the order
-- CommitHolds, CloseHolds and the reaper take them in, and (shop_id, id)
-- makes two groups, and the requests that close lapsed holds
-- (LockLapsedHoldsOnLines), take theirs in the same order. Lapsed holds are
-- locked too: one that lapses while its release waits in the group is then
-- still taken before the stock rows, never after them. Closed holds are
-- left alone: their members' statements change nothing.
SELECT h.id
FROM holds h
JOIN (SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id, unnest(sqlc.arg(hold_ids)::text[]) AS id) k
    ON h.shop_id = k.shop_id AND h.id = k.id
WHERE h.status IN ('active', 'pending_payment', 'expiring')
ORDER BY h.shop_id, h.id
FOR NO KEY UPDATE OF h;

-- name: LockGroupStock :exec
-- Locks every stock row a group's statements will lock, once, in the order
-- every statement that locks more than one stock row uses (shop_id, sku,
-- variant_key, location_id), before any of them runs. Each statement then
-- finds its rows already locked by its own transaction, so the group takes
-- them in one fixed order however its members' lines interleave, and two
-- groups, or a group and a single statement, cannot deadlock on them. The
-- rows are those of the lines asked for and of the named holds'
-- allocations, at every location.
WITH wanted AS (
    SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id,
           unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key
    UNION
    SELECT a.shop_id, a.sku, a.variant_key
    FROM (SELECT unnest(sqlc.arg(hold_shop_ids)::text[]) AS shop_id, unnest(sqlc.arg(hold_ids)::text[]) AS id) k
    JOIN hold_allocations a ON a.shop_id = k.shop_id AND a.hold_id = k.id
)
SELECT s.location_id
FROM wanted w
JOIN stock_levels s ON s.shop_id = w.shop_id AND s.sku = w.sku AND s.variant_key = w.variant_key
ORDER BY s.shop_id, s.sku, s.variant_key, s.location_id
FOR NO KEY UPDATE OF s;

-- name: ReadGroupStock :many
-- Reads the stock rows of the lines a group's holds ask for, with their
-- locations' priorities and their lines' settings, for the group to work
-- out its holds in Go (group_reserve.go). It runs in the group's
-- transaction after LockGroupStock has locked these rows and after the
-- group's commits and releases have changed them, so what it reads is what
-- the rows hold and go on holding until the group commits. Rows come in the
-- order a line takes free stock from its locations: (priority,
-- location_id).
SELECT s.shop_id, s.sku, s.variant_key, s.location_id, s.on_hand, s.reserved, s.backorder_limit,
       loc.priority, sl.safety_stock, sl.low_stock_threshold
FROM (
    SELECT DISTINCT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id,
           unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key
) w
JOIN stock_levels s ON s.shop_id = w.shop_id AND s.sku = w.sku AND s.variant_key = w.variant_key
JOIN stock_lines sl ON sl.shop_id = s.shop_id AND sl.sku = s.sku AND sl.variant_key = s.variant_key
JOIN locations loc ON loc.shop_id = s.shop_id AND loc.id = s.location_id
ORDER BY s.shop_id, s.sku, s.variant_key, loc.priority, s.location_id;

-- name: FindGroupHoldKeys :many
-- The idempotency keys of a group's holds that earlier holds have taken:
-- those holds are not placed again.
SELECT h.shop_id, h.idempotency_key::text AS idempotency_key
FROM holds h
JOIN (
    SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id, unnest(sqlc.arg(idempotency_keys)::text[]) AS idempotency_key
) k ON h.shop_id = k.shop_id AND h.idempotency_key = k.idempotency_key;

-- name: PlaceGroupHolds :many
-- Writes the holds a group placed, worked out in Go from ReadGroupStock:
-- the holds, their allocations, the stock they reserve (summed per row),
-- a RESERVATION movement per allocation and the low-stock checks, in one
-- statement. The rows were locked by this transaction before it read
-- them, so this statement's snapshot holds their latest versions and
-- "reserved + quantity" is formed from the locked values, as ReserveHold's
-- UPDATE is. The CHECK constraints of stock_levels stand behind the Go
-- arithmetic as they stand behind ReserveHold's. An idempotency key taken
-- meanwhile by another transaction fails the statement (there is no ON
-- CONFLICT here), and the group then runs each hold alone.
WITH new_holds AS (
    INSERT INTO holds (shop_id, id, status, expires_at, idempotency_key, reference, checkout_mode)
    SELECT h.shop_id, h.id, 'active',
           date_trunc('second', now() + make_interval(secs => h.ttl_seconds)),
           nullif(h.idempotency_key, ''), h.reference, nullif(h.checkout_mode, '')
    FROM (
        SELECT unnest(sqlc.arg(hold_shop_ids)::text[]) AS shop_id,
               unnest(sqlc.arg(hold_ids)::text[]) AS id,
               unnest(sqlc.arg(ttl_seconds)::int[]) AS ttl_seconds,
               unnest(sqlc.arg(idempotency_keys)::text[]) AS idempotency_key,
               unnest(sqlc.arg(hold_references)::text[]) AS reference,
               unnest(sqlc.arg(checkout_modes)::text[]) AS checkout_mode
    ) h
    RETURNING shop_id, id, expires_at, created_at
),
allocs AS (
    SELECT unnest(sqlc.arg(alloc_shop_ids)::text[]) AS shop_id,
           unnest(sqlc.arg(alloc_hold_ids)::text[]) AS hold_id,
           unnest(sqlc.arg(alloc_skus)::text[]) AS sku,
           unnest(sqlc.arg(alloc_variant_keys)::text[]) AS variant_key,
           unnest(sqlc.arg(alloc_location_ids)::text[]) AS location_id,
           unnest(sqlc.arg(alloc_quantities)::bigint[]) AS quantity,
           unnest(sqlc.arg(alloc_backordered)::bigint[]) AS backordered,
           unnest(sqlc.arg(alloc_references)::text[]) AS reference
),
inserted_allocations AS (
    INSERT INTO hold_allocations (shop_id, hold_id, sku, variant_key, location_id, quantity, backordered, open_until)
    SELECT a.shop_id, a.hold_id, a.sku, a.variant_key, a.location_id, a.quantity, a.backordered, n.expires_at
    FROM allocs a
    JOIN new_holds n ON n.shop_id = a.shop_id AND n.id = a.hold_id
),
reserved AS (
    UPDATE stock_levels s
    SET reserved = s.reserved + d.quantity,
        updated_at = now()
    FROM (
        SELECT shop_id, sku, variant_key, location_id, sum(quantity) AS quantity
        FROM allocs
        GROUP BY shop_id, sku, variant_key, location_id
    ) d
    WHERE s.shop_id = d.shop_id AND s.sku = d.sku AND s.variant_key = d.variant_key AND s.location_id = d.location_id
),
recorded AS (
    INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, hold_id)
    -- Straight from the arrays, so the movements are numbered in the
    -- order the group placed its holds.
    SELECT a.shop_id, a.sku, a.variant_key, a.location_id, 'RESERVATION', a.quantity, a.reference, a.hold_id
    FROM allocs a
),
low AS (
    INSERT INTO stock_checks (shop_id, sku, variant_key)
    SELECT DISTINCT c.shop_id, c.sku, c.variant_key
    FROM (
        SELECT unnest(sqlc.arg(check_shop_ids)::text[]) AS shop_id,
               unnest(sqlc.arg(check_skus)::text[]) AS sku,
               unnest(sqlc.arg(check_variant_keys)::text[]) AS variant_key
    ) c
    ON CONFLICT DO NOTHING
)
SELECT n.shop_id::text AS shop_id, n.id::text AS id, n.expires_at, n.created_at
FROM new_holds n;
