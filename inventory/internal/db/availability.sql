-- name: AvailabilityOfSKUs :many
-- Every line of the given SKUs, with totals across locations, in (sku,
-- variant_key) order. Lapsed holds do not count (stock_levels_effective).
SELECT sl.sku, sl.variant_key, sl.safety_stock, sl.max_per_order, sl.max_per_customer,
       coalesce(sl.low_stock_threshold, sqlc.arg(default_threshold)::bigint)::bigint AS low_stock_threshold,
       coalesce(sum(e.on_hand), 0)::bigint AS on_hand,
       coalesce(sum(e.reserved), 0)::bigint AS reserved,
       coalesce(sum(e.backorder_limit), 0)::bigint AS backorder_limit
FROM stock_lines sl
LEFT JOIN stock_levels_effective e ON e.shop_id = sl.shop_id AND e.sku = sl.sku AND e.variant_key = sl.variant_key
WHERE sl.shop_id = sqlc.arg(shop_id) AND sl.sku = ANY (sqlc.arg(skus)::text[])
GROUP BY sl.shop_id, sl.sku, sl.variant_key
ORDER BY sl.sku, sl.variant_key;

-- name: StockChangeSnapshot :one
-- Where the change log stands: the snapshot of this statement, and when the
-- server started (a restart empties the unlogged log).
SELECT pg_current_snapshot()::text AS snapshot, pg_postmaster_start_time()::timestamptz AS server_started;

-- name: StockChangesSince :many
-- The lines changed by transactions that committed after the since
-- snapshot was taken (those it saw neither finished nor rolled back),
-- across shops, with this statement's snapshot on every row. One row has an
-- empty shop_id, so that the snapshot comes back when nothing changed.
WITH cur AS (
    SELECT pg_current_snapshot() AS snap, pg_postmaster_start_time()::timestamptz AS started
)
SELECT cur.snap::text AS snapshot, cur.started::timestamptz AS server_started,
       ''::text AS shop_id, ''::text AS sku, ''::text AS variant_key
FROM cur
UNION ALL
SELECT DISTINCT cur.snap::text, cur.started, c.shop_id, c.sku, c.variant_key
FROM stock_changes c, cur
WHERE c.xid >= pg_snapshot_xmin(sqlc.arg(since)::text::pg_snapshot)
  AND NOT pg_visible_in_snapshot(c.xid, sqlc.arg(since)::text::pg_snapshot);

-- name: PruneStockChanges :execrows
-- Deletes the log of transactions that had all finished when the before
-- snapshot was taken. Across shops, like StockChangesSince: the log is
-- read and pruned by one Feed per process for every shop, by transaction.
DELETE FROM stock_changes
WHERE xid < pg_snapshot_xmin(sqlc.arg(before)::text::pg_snapshot);
