-- name: LockHoldForItems :one
-- Locks a hold whose lines are to change, before the stock rows: holds
-- before stock rows is the order every path takes them in. It is a
-- statement of its own so that what follows reads the hold's allocations
-- after the lock, as the last change to them left them.
SELECT h.status, h.checkout_session_id, h.checkout_claimed,
       coalesce(hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) <= now(), false)::boolean AS lapsed,
       (h.status = 'expiring' OR h.status = 'active' AND h.checkout_session_expires_at IS NOT NULL AND h.expires_at <= now())::boolean AS expiring,
       (h.expires_at <= now())::boolean AS past_expiry
FROM holds h
WHERE h.shop_id = sqlc.arg(shop_id) AND h.id = sqlc.arg(id)
FOR NO KEY UPDATE;

-- name: WriteHoldItems :execrows
-- Writes a hold's new lines, worked out in Go (hold_items.go) over the
-- stock rows this transaction has locked: each changed allocation's new
-- quantity (0 drops it) and the change to its stock row's reserved, with a
-- RESERVATION or RELEASE movement for the difference. The stock row is
-- only updated while its reserved is what the plan was made over
-- (reserved_before), so a plan made over anything else writes fewer rows
-- than it changes and the caller rolls back; the CHECK constraints of
-- stock_levels stand behind the arithmetic. New allocations get their
-- open_until from the hold (hold_allocations_open_until).
WITH change AS (
    SELECT unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key,
           unnest(sqlc.arg(location_ids)::text[]) AS location_id,
           unnest(sqlc.arg(quantities)::bigint[]) AS quantity,
           unnest(sqlc.arg(backordered)::bigint[]) AS backordered,
           unnest(sqlc.arg(deltas)::bigint[]) AS delta,
           unnest(sqlc.arg(reserved_before)::bigint[]) AS reserved_before
),
kept AS (
    INSERT INTO hold_allocations (shop_id, hold_id, sku, variant_key, location_id, quantity, backordered)
    SELECT sqlc.arg(shop_id), sqlc.arg(hold_id), c.sku, c.variant_key, c.location_id, c.quantity, c.backordered
    FROM change c
    WHERE c.quantity > 0
    ON CONFLICT (shop_id, hold_id, sku, variant_key, location_id)
    DO UPDATE SET quantity = EXCLUDED.quantity, backordered = EXCLUDED.backordered
),
dropped AS (
    DELETE FROM hold_allocations a
    USING change c
    WHERE a.shop_id = sqlc.arg(shop_id) AND a.hold_id = sqlc.arg(hold_id)
      AND a.sku = c.sku AND a.variant_key = c.variant_key AND a.location_id = c.location_id
      AND c.quantity = 0
),
recorded AS (
    INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, hold_id)
    SELECT sqlc.arg(shop_id), c.sku, c.variant_key, c.location_id,
           CASE WHEN c.delta > 0 THEN 'RESERVATION' ELSE 'RELEASE' END, c.delta, sqlc.arg(reference), sqlc.arg(hold_id)
    FROM change c
    WHERE c.delta <> 0
),
low AS (
    INSERT INTO stock_checks (shop_id, sku, variant_key)
    SELECT sqlc.arg(shop_id), unnest(sqlc.arg(check_skus)::text[]), unnest(sqlc.arg(check_variant_keys)::text[])
    ON CONFLICT DO NOTHING
)
UPDATE stock_levels s
SET reserved = s.reserved + c.delta,
    updated_at = now()
FROM change c
WHERE s.shop_id = sqlc.arg(shop_id)
  AND s.sku = c.sku AND s.variant_key = c.variant_key AND s.location_id = c.location_id
  AND c.delta <> 0
  AND s.reserved = c.reserved_before;

-- name: SetHoldExpiry :exec
-- Sets an active hold to expire ttl_seconds from now, as a hold placed now
-- would (whole seconds, rounded down): a checkout that adopts a cart's hold
-- gives it a checkout's expiry, sooner or later than the cart's. The holds
-- trigger moves the allocations' open_until with it.
UPDATE holds
SET expires_at = date_trunc('second', now() + make_interval(secs => sqlc.arg(ttl_seconds)::int)),
    updated_at = now()
WHERE shop_id = sqlc.arg(shop_id)
  AND id = sqlc.arg(id)
  AND status = 'active';

-- name: ClaimHoldForCheckout :exec
-- Marks a hold a checkout adopted: from now on only checkouts set its
-- lines (see migration 00016).
UPDATE holds
SET checkout_claimed = true, updated_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);
