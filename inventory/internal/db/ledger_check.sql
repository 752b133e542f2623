-- name: LedgerDiscrepancies :many
-- Stock rows whose on_hand is not the sum of their movements, whose reserved
-- is not the sum of their open holds' allocations, or that have allocations
-- whose copy of when their hold stops holding stock (open_until:
-- hold_open_until of the hold, NULL once it is closed) disagrees with the
-- hold. A clean ledger returns nothing. shop_id '' checks every shop.
WITH moved AS (
    SELECT m.shop_id, m.sku, m.variant_key, m.location_id, sum(m.quantity) AS quantity
    FROM movements m
    WHERE m.type NOT IN ('RESERVATION', 'RELEASE')
      AND (sqlc.arg(shop_id)::text = '' OR m.shop_id = sqlc.arg(shop_id)::text)
    GROUP BY m.shop_id, m.sku, m.variant_key, m.location_id
),
held AS (
    SELECT a.shop_id, a.sku, a.variant_key, a.location_id, sum(a.quantity) AS quantity
    FROM hold_allocations a
    JOIN holds h ON h.shop_id = a.shop_id AND h.id = a.hold_id
    WHERE h.status IN ('active', 'pending_payment', 'expiring')
      AND (sqlc.arg(shop_id)::text = '' OR a.shop_id = sqlc.arg(shop_id)::text)
    GROUP BY a.shop_id, a.sku, a.variant_key, a.location_id
),
stale AS (
    SELECT a.shop_id, a.sku, a.variant_key, a.location_id, count(*) AS n
    FROM hold_allocations a
    JOIN holds h ON h.shop_id = a.shop_id AND h.id = a.hold_id
    WHERE a.open_until IS DISTINCT FROM hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at)
      AND (sqlc.arg(shop_id)::text = '' OR a.shop_id = sqlc.arg(shop_id)::text)
    GROUP BY a.shop_id, a.sku, a.variant_key, a.location_id
)
SELECT s.shop_id, s.sku, s.variant_key, s.location_id,
       s.on_hand, coalesce(moved.quantity, 0)::bigint AS movement_sum,
       s.reserved, coalesce(held.quantity, 0)::bigint AS held_sum,
       coalesce(stale.n, 0)::bigint AS stale_allocations
FROM stock_levels s
LEFT JOIN moved ON moved.shop_id = s.shop_id AND moved.sku = s.sku AND moved.variant_key = s.variant_key AND moved.location_id = s.location_id
LEFT JOIN held ON held.shop_id = s.shop_id AND held.sku = s.sku AND held.variant_key = s.variant_key AND held.location_id = s.location_id
LEFT JOIN stale ON stale.shop_id = s.shop_id AND stale.sku = s.sku AND stale.variant_key = s.variant_key AND stale.location_id = s.location_id
WHERE (sqlc.arg(shop_id)::text = '' OR s.shop_id = sqlc.arg(shop_id)::text)
  AND (s.on_hand <> coalesce(moved.quantity, 0) OR s.reserved <> coalesce(held.quantity, 0) OR stale.n > 0)
ORDER BY s.shop_id, s.sku, s.variant_key, s.location_id;

-- name: CountStockLevels :one
SELECT count(*)
FROM stock_levels
WHERE sqlc.arg(shop_id)::text = '' OR shop_id = sqlc.arg(shop_id)::text;
