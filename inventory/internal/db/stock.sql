-- name: ValidateLines :many
-- How many units of each line a hold could take right now: free stock
-- (keeping safety stock) plus what the default location may still
-- backorder. Mirrors the arithmetic of ReserveHold, on the effective view,
-- so lapsed holds no longer count. It answers the lines of many validations
-- at once, of any shops: each (shop, sku, variant key) given comes back
-- once, with its availability (0 for a line never stocked) and whether its
-- shop exists. A lone validation runs it too, so grouped and alone cannot
-- differ. A line that exists proves its shop does (foreign key); only an
-- unknown line pays for the look-up of the shop.
WITH req AS (
    SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id,
           unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key
)
SELECT req.shop_id::text AS shop_id,
       req.sku::text AS sku,
       req.variant_key::text AS variant_key,
       (greatest(coalesce(sum(e.on_hand - e.reserved), 0) - coalesce(max(sl.safety_stock), 0), 0)
        + greatest(least(
              coalesce(sum(e.backorder_limit + least(e.on_hand - e.reserved, 0)) FILTER (WHERE e.location_id = 'default'), 0),
              coalesce(sum(e.backorder_limit), 0) + least(coalesce(sum(e.on_hand - e.reserved), 0) - coalesce(max(sl.safety_stock), 0), 0)
          ), 0)
       )::bigint AS available,
       (CASE WHEN count(sl.shop_id) > 0 THEN true
             ELSE EXISTS (SELECT 1 FROM shops s WHERE s.id = req.shop_id) END)::boolean AS shop_exists
FROM req
LEFT JOIN stock_lines sl ON sl.shop_id = req.shop_id AND sl.sku = req.sku AND sl.variant_key = req.variant_key
LEFT JOIN stock_levels_effective e ON e.shop_id = req.shop_id AND e.sku = req.sku AND e.variant_key = req.variant_key
GROUP BY req.shop_id, req.sku, req.variant_key;

-- name: ListStockLines :many
-- A page of a shop's stock lines in (sku, variant_key) order, with totals
-- across locations. Pass the last line of the previous page as the cursor
-- ('' and '' for the first page: every sku sorts after it).
SELECT sl.sku, sl.variant_key, sl.safety_stock, sl.max_per_order, sl.max_per_customer,
       coalesce(sl.low_stock_threshold, sqlc.arg(default_threshold)::bigint)::bigint AS low_stock_threshold,
       coalesce(sum(e.on_hand), 0)::bigint AS on_hand,
       coalesce(sum(e.reserved), 0)::bigint AS reserved,
       coalesce(sum(e.backorder_limit), 0)::bigint AS backorder_limit
FROM stock_lines sl
LEFT JOIN stock_levels_effective e ON e.shop_id = sl.shop_id AND e.sku = sl.sku AND e.variant_key = sl.variant_key
WHERE sl.shop_id = sqlc.arg(shop_id)
  AND (sl.sku, sl.variant_key) > (sqlc.arg(after_sku)::text, sqlc.arg(after_variant_key)::text)
GROUP BY sl.shop_id, sl.sku, sl.variant_key
HAVING NOT sqlc.arg(low_stock_only)::boolean
    OR greatest(coalesce(sum(e.on_hand), 0) - coalesce(sum(e.reserved), 0) - sl.safety_stock, 0)
       <= coalesce(sl.low_stock_threshold, sqlc.arg(default_threshold)::bigint)
ORDER BY sl.sku, sl.variant_key
LIMIT sqlc.arg(max);

-- name: GetStockLines :many
-- The given lines with totals across locations, as ListStockLines has them.
SELECT sl.sku, sl.variant_key, sl.safety_stock, sl.max_per_order, sl.max_per_customer,
       coalesce(sl.low_stock_threshold, sqlc.arg(default_threshold)::bigint)::bigint AS low_stock_threshold,
       coalesce(sum(e.on_hand), 0)::bigint AS on_hand,
       coalesce(sum(e.reserved), 0)::bigint AS reserved,
       coalesce(sum(e.backorder_limit), 0)::bigint AS backorder_limit
FROM stock_lines sl
JOIN (SELECT unnest(sqlc.arg(skus)::text[]) AS sku, unnest(sqlc.arg(variant_keys)::text[]) AS variant_key) r
    ON r.sku = sl.sku AND r.variant_key = sl.variant_key
LEFT JOIN stock_levels_effective e ON e.shop_id = sl.shop_id AND e.sku = sl.sku AND e.variant_key = sl.variant_key
WHERE sl.shop_id = sqlc.arg(shop_id)
GROUP BY sl.shop_id, sl.sku, sl.variant_key
ORDER BY sl.sku, sl.variant_key;

-- name: GetStockLineGroup :many
-- Lines of any shops with their per-location rows, in one round trip for
-- the stock reads of a group (a lone read runs it too, so grouped and
-- alone cannot differ): per line asked for, a row per location it is
-- stocked at in allocation order, or one with stocked false for a line
-- stocked nowhere; none for an unknown line. Each line is to be asked
-- for once. The caller sums the totals, as GetStockLines has them.
WITH req AS (
    SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id,
           unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key
)
SELECT sl.shop_id, sl.sku, sl.variant_key, sl.safety_stock, sl.max_per_order, sl.max_per_customer,
       coalesce(sl.low_stock_threshold, sqlc.arg(default_threshold)::bigint)::bigint AS low_stock_threshold,
       (e.location_id IS NOT NULL)::boolean AS stocked,
       coalesce(e.location_id, '')::text AS location_id,
       coalesce(e.on_hand, 0)::bigint AS on_hand,
       coalesce(e.reserved, 0)::bigint AS reserved,
       coalesce(e.backorder_limit, 0)::bigint AS backorder_limit
FROM req
JOIN stock_lines sl ON sl.shop_id = req.shop_id AND sl.sku = req.sku AND sl.variant_key = req.variant_key
LEFT JOIN (stock_levels_effective e JOIN locations loc ON loc.shop_id = e.shop_id AND loc.id = e.location_id)
    ON e.shop_id = sl.shop_id AND e.sku = sl.sku AND e.variant_key = sl.variant_key
ORDER BY sl.shop_id, sl.sku, sl.variant_key, loc.priority, e.location_id;

-- name: SkuVariantKeys :many
-- The first variant keys a shop stocks a sku under, for telling a client
-- that asked for a line the sku does not have which ones it does. Read on
-- that failure path only; the primary key orders and bounds it.
SELECT variant_key
FROM stock_lines
WHERE shop_id = sqlc.arg(shop_id) AND sku = sqlc.arg(sku)
ORDER BY variant_key
LIMIT sqlc.arg(max);

-- name: ListStockLevels :many
-- The per-location rows of the given lines, in allocation order.
SELECT e.sku, e.variant_key, e.location_id, e.on_hand, e.reserved::bigint AS reserved
FROM stock_levels_effective e
JOIN (SELECT unnest(sqlc.arg(skus)::text[]) AS sku, unnest(sqlc.arg(variant_keys)::text[]) AS variant_key) r
    ON r.sku = e.sku AND r.variant_key = e.variant_key
JOIN locations loc ON loc.shop_id = e.shop_id AND loc.id = e.location_id
WHERE e.shop_id = sqlc.arg(shop_id)
ORDER BY e.sku, e.variant_key, loc.priority, e.location_id;

-- name: EnsureStockLevels :exec
-- Creates the lines and rows a stock change names, in the order given (the
-- caller sorts them, the lock order), leaving existing ones alone.
WITH wanted AS (
    SELECT unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key,
           unnest(sqlc.arg(location_ids)::text[]) AS location_id
),
lines AS (
    INSERT INTO stock_lines (shop_id, sku, variant_key)
    SELECT DISTINCT sqlc.arg(shop_id), w.sku, w.variant_key FROM wanted w
    ORDER BY 2, 3
    ON CONFLICT DO NOTHING
)
INSERT INTO stock_levels (shop_id, sku, variant_key, location_id)
SELECT sqlc.arg(shop_id), w.sku, w.variant_key, w.location_id FROM wanted w
ON CONFLICT DO NOTHING;

-- name: MissingLocations :many
SELECT l.id::text AS id
FROM unnest(sqlc.arg(location_ids)::text[]) AS l (id)
WHERE NOT EXISTS (SELECT 1 FROM locations WHERE shop_id = sqlc.arg(shop_id) AND id = l.id);

-- name: UpdateStockLineSettings :one
UPDATE stock_lines
SET safety_stock = coalesce(sqlc.narg(safety_stock), safety_stock),
    low_stock_threshold = coalesce(sqlc.narg(low_stock_threshold), low_stock_threshold),
    max_per_order = coalesce(sqlc.narg(max_per_order), max_per_order),
    max_per_customer = coalesce(sqlc.narg(max_per_customer), max_per_customer),
    updated_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND sku = sqlc.arg(sku) AND variant_key = sqlc.arg(variant_key)
RETURNING *;

-- name: SetBackorderLimit :exec
-- Sets the line's backorder limit on its default row, locked first so that
-- on_hand and reserved, which the CHECKs read with it, are the row's newest
-- (see ReserveHold). A limit below what the row has backordered violates
-- stock_levels_no_oversell.
WITH locked AS (
    SELECT s.on_hand, s.reserved
    FROM stock_levels s
    WHERE s.shop_id = sqlc.arg(shop_id) AND s.sku = sqlc.arg(sku) AND s.variant_key = sqlc.arg(variant_key)
      AND s.location_id = 'default'
    FOR NO KEY UPDATE
)
UPDATE stock_levels s
SET on_hand = k.on_hand,
    reserved = k.reserved,
    backorder_limit = sqlc.arg(backorder_limit),
    updated_at = now()
FROM locked k
WHERE s.shop_id = sqlc.arg(shop_id) AND s.sku = sqlc.arg(sku) AND s.variant_key = sqlc.arg(variant_key)
  AND s.location_id = 'default';

-- name: ApplyStockChange :one
-- Applies one set/increment/decrement to a stock row and records the movement
-- in the same statement. A change may not push on_hand below what the row has
-- reserved, unless it raises on_hand (receiving stock into a backordered row is
-- always welcome); when it would, nothing is written and ok is false.
--
-- Like ReserveHold, it sets every column the stock_levels CHECKs read from the
-- locked row: a release committed while it waited for the lock would
-- otherwise leave the stale reserved in the row the CHECK judges.
--
-- A set with expected_on_hand is compared against that same locked row, not
-- against an earlier read: a sale committed after the count was taken, even
-- one committed while this statement waited for the lock, makes it stale,
-- and then nothing is written and stale is true.
WITH current AS (
    SELECT s.on_hand, s.reserved, s.backorder_limit
    FROM stock_levels s
    WHERE s.shop_id = sqlc.arg(shop_id) AND s.sku = sqlc.arg(sku)
      AND s.variant_key = sqlc.arg(variant_key) AND s.location_id = sqlc.arg(location_id)
    FOR NO KEY UPDATE
),
target AS (
    SELECT c.on_hand AS old_on_hand, c.reserved, c.backorder_limit,
           CASE sqlc.arg(op)::text
               WHEN 'set' THEN sqlc.arg(quantity)::bigint
               WHEN 'increment' THEN c.on_hand + sqlc.arg(quantity)::bigint
               ELSE c.on_hand - sqlc.arg(quantity)::bigint
           END AS new_on_hand,
           coalesce(c.on_hand <> sqlc.narg(expected_on_hand)::bigint, false) AS stale
    FROM current c
),
changed AS (
    UPDATE stock_levels s
    SET on_hand = t.new_on_hand,
        reserved = t.reserved,
        backorder_limit = t.backorder_limit,
        updated_at = now()
    FROM target t
    WHERE s.shop_id = sqlc.arg(shop_id) AND s.sku = sqlc.arg(sku)
      AND s.variant_key = sqlc.arg(variant_key) AND s.location_id = sqlc.arg(location_id)
      AND NOT t.stale
      AND (t.new_on_hand >= t.reserved OR t.new_on_hand >= t.old_on_hand)
    RETURNING s.on_hand
),
recorded AS (
    INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, notes, created_by)
    SELECT sqlc.arg(shop_id), sqlc.arg(sku), sqlc.arg(variant_key), sqlc.arg(location_id), sqlc.arg(type),
           t.new_on_hand - t.old_on_hand, sqlc.arg(reference), sqlc.arg(notes), sqlc.arg(created_by)
    FROM target t, changed
    RETURNING id, quantity, created_at
),
-- A change that lowers stock asks for a low-stock check of the line, in this
-- transaction; the check decides whether it is low.
low AS (
    INSERT INTO stock_checks (shop_id, sku, variant_key)
    SELECT sqlc.arg(shop_id), sqlc.arg(sku), sqlc.arg(variant_key)
    FROM target t, changed
    WHERE t.new_on_hand < t.old_on_hand
    ON CONFLICT DO NOTHING
)
SELECT t.old_on_hand::bigint AS old_on_hand,
       t.reserved::bigint AS reserved,
       t.new_on_hand::bigint AS new_on_hand,
       coalesce(r.id, 0)::bigint AS movement_id,
       coalesce(r.quantity, 0)::bigint AS movement_quantity,
       coalesce(r.created_at, now())::timestamptz AS created_at,
       (r.id IS NOT NULL)::boolean AS ok,
       t.stale::boolean AS stale
FROM target t
LEFT JOIN recorded r ON true;

-- name: ClaimIdempotencyKey :one
-- Claims an idempotency key for this transaction. A concurrent claim of the
-- same key waits here until the first transaction ends; then it gets no row
-- and reads the stored outcome instead.
INSERT INTO idempotency_keys (shop_id, scope, key, request_hash)
VALUES (sqlc.arg(shop_id), sqlc.arg(scope), sqlc.arg(key), sqlc.arg(request_hash))
ON CONFLICT DO NOTHING
RETURNING key;

-- name: GetIdempotencyKey :one
SELECT request_hash, response
FROM idempotency_keys
WHERE shop_id = sqlc.arg(shop_id) AND scope = sqlc.arg(scope) AND key = sqlc.arg(key);

-- name: StoreIdempotentResponse :exec
UPDATE idempotency_keys
SET response = sqlc.arg(response)
WHERE shop_id = sqlc.arg(shop_id) AND scope = sqlc.arg(scope) AND key = sqlc.arg(key);
