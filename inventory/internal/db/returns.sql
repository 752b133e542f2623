-- name: LockHoldForReturn :one
-- Locks the hold so that its returns are judged one after another: every
-- later statement of the transaction sees the returns committed before it.
SELECT h.status, h.checkout_mode
FROM holds h
WHERE h.shop_id = sqlc.arg(shop_id) AND h.id = sqlc.arg(hold_id)
FOR UPDATE;

-- name: ReturnByKey :one
SELECT r.id, r.hold_id, r.request_hash
FROM returns r
WHERE r.shop_id = sqlc.arg(shop_id) AND r.idempotency_key = sqlc.arg(idempotency_key);

-- name: HoldSold :many
-- What the hold's commit sold, per line and location, from its SALE
-- movements (a commit of adjustable quantities may sell less than the hold
-- allocated), with what has come back so far. The movements are looked for
-- among the hold's lines (movements_line), not the whole ledger.
WITH sold AS (
    SELECT m.sku, m.variant_key, m.location_id, (-sum(m.quantity))::bigint AS sold
    FROM movements m
    WHERE m.shop_id = sqlc.arg(shop_id)
      AND m.sku IN (SELECT a.sku FROM hold_allocations a WHERE a.shop_id = sqlc.arg(shop_id) AND a.hold_id = sqlc.arg(hold_id))
      AND m.hold_id = sqlc.arg(hold_id)::text
      AND m.type = 'SALE'
    GROUP BY m.sku, m.variant_key, m.location_id
)
SELECT s.sku, s.variant_key, s.location_id, s.sold, coalesce(r.returned, 0)::bigint AS returned,
       coalesce(l.priority, 0)::int AS priority
FROM sold s
LEFT JOIN hold_returns r ON r.shop_id = sqlc.arg(shop_id) AND r.hold_id = sqlc.arg(hold_id)
    AND r.sku = s.sku AND r.variant_key = s.variant_key AND r.location_id = s.location_id
LEFT JOIN locations l ON l.shop_id = sqlc.arg(shop_id) AND l.id = s.location_id
WHERE s.sold > 0
ORDER BY s.sku, s.variant_key, coalesce(l.priority, 0), s.location_id;

-- name: CountReturnedUnits :exec
-- Adds a return's units to the hold's tally; hold_returns_within_sale
-- refuses a tally past what was sold.
INSERT INTO hold_returns (shop_id, hold_id, sku, variant_key, location_id, sold, returned)
SELECT sqlc.arg(shop_id), sqlc.arg(hold_id), unnest(sqlc.arg(skus)::text[]), unnest(sqlc.arg(variant_keys)::text[]),
       unnest(sqlc.arg(location_ids)::text[]), unnest(sqlc.arg(sold)::bigint[]), unnest(sqlc.arg(quantities)::bigint[])
ON CONFLICT (shop_id, hold_id, sku, variant_key, location_id)
DO UPDATE SET returned = hold_returns.returned + excluded.returned;

-- name: InsertReturn :one
INSERT INTO returns (shop_id, id, hold_id, restock, reason, idempotency_key, request_hash)
VALUES (sqlc.arg(shop_id), sqlc.arg(id), sqlc.arg(hold_id), sqlc.arg(restock), sqlc.arg(reason),
        sqlc.narg(idempotency_key), sqlc.arg(request_hash))
ON CONFLICT (shop_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING created_at;

-- name: InsertReturnItems :exec
INSERT INTO return_items (shop_id, return_id, position, sku, variant_key, location_id, quantity)
SELECT sqlc.arg(shop_id), sqlc.arg(return_id), unnest(sqlc.arg(positions)::int[]), unnest(sqlc.arg(skus)::text[]),
       unnest(sqlc.arg(variant_keys)::text[]), unnest(sqlc.arg(location_ids)::text[]), unnest(sqlc.arg(quantities)::bigint[]);

-- name: RestockReturn :many
-- Puts returned units back on hand, with a RETURN movement each, in one
-- statement. The stock rows are locked in (sku, variant_key, location_id)
-- order, as every statement locking more than one does, and set from the
-- locked values (see ReserveHold). Returned units only raise on_hand, so no
-- CHECK of stock_levels can refuse them.
WITH req AS (
    SELECT unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key,
           unnest(sqlc.arg(location_ids)::text[]) AS location_id,
           unnest(sqlc.arg(quantities)::bigint[]) AS quantity
),
locked AS (
    SELECT s.sku, s.variant_key, s.location_id, s.on_hand, s.reserved, s.backorder_limit
    FROM stock_levels s
    JOIN req ON req.sku = s.sku AND req.variant_key = s.variant_key AND req.location_id = s.location_id
    WHERE s.shop_id = sqlc.arg(shop_id)
    ORDER BY s.sku, s.variant_key, s.location_id
    FOR NO KEY UPDATE OF s
),
changed AS (
    UPDATE stock_levels s
    SET on_hand = k.on_hand + q.quantity,
        reserved = k.reserved,
        backorder_limit = k.backorder_limit,
        updated_at = now()
    FROM locked k
    JOIN req q ON q.sku = k.sku AND q.variant_key = k.variant_key AND q.location_id = k.location_id
    WHERE s.shop_id = sqlc.arg(shop_id)
      AND s.sku = k.sku AND s.variant_key = k.variant_key AND s.location_id = k.location_id
    RETURNING s.sku, s.variant_key, s.location_id
)
INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, notes, created_by, hold_id)
SELECT sqlc.arg(shop_id), q.sku, q.variant_key, q.location_id, 'RETURN', q.quantity, sqlc.arg(reference),
       sqlc.arg(notes), sqlc.arg(created_by), sqlc.arg(hold_id)
FROM req q
JOIN changed c ON c.sku = q.sku AND c.variant_key = q.variant_key AND c.location_id = q.location_id
RETURNING id;

-- name: ListHoldReturns :many
SELECT r.id, r.restock, r.reason, r.created_at
FROM returns r
WHERE r.shop_id = sqlc.arg(shop_id) AND r.hold_id = sqlc.arg(hold_id)
ORDER BY r.created_at, r.id;

-- name: ListReturnItems :many
SELECT i.return_id, i.sku, i.variant_key, i.location_id, i.quantity
FROM return_items i
WHERE i.shop_id = sqlc.arg(shop_id) AND i.return_id = ANY (sqlc.arg(return_ids)::text[])
ORDER BY i.return_id, i.position;
