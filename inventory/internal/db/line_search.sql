-- name: SearchStockLines :many
-- A page of the shop's stock lines in (sku, variant_key) order, as
-- ListStockLines has them, narrowed by a search word (found anywhere in
-- sku or variant key, any case), by a location the line has a row at, to
-- low-stock lines, and to backordered ones (some location has reserved
-- more than it has on hand). '' and false narrow nothing.
SELECT sl.sku, sl.variant_key, sl.safety_stock, sl.max_per_order, sl.max_per_customer,
       coalesce(sl.low_stock_threshold, sqlc.arg(default_threshold)::bigint)::bigint AS low_stock_threshold,
       coalesce(sum(e.on_hand), 0)::bigint AS on_hand,
       coalesce(sum(e.reserved), 0)::bigint AS reserved,
       coalesce(sum(e.backorder_limit), 0)::bigint AS backorder_limit
FROM stock_lines sl
LEFT JOIN stock_levels_effective e ON e.shop_id = sl.shop_id AND e.sku = sl.sku AND e.variant_key = sl.variant_key
WHERE sl.shop_id = sqlc.arg(shop_id)
  AND (sl.sku, sl.variant_key) > (sqlc.arg(after_sku)::text, sqlc.arg(after_variant_key)::text)
  AND (sqlc.arg(word)::text = ''
       OR strpos(lower(sl.sku), lower(sqlc.arg(word)::text)) > 0
       OR strpos(lower(sl.variant_key), lower(sqlc.arg(word)::text)) > 0)
  AND (sqlc.arg(location_id)::text = '' OR EXISTS (
      SELECT 1 FROM stock_levels x
      WHERE x.shop_id = sl.shop_id AND x.sku = sl.sku AND x.variant_key = sl.variant_key
        AND x.location_id = sqlc.arg(location_id)::text))
  -- A row reserving more than it has on hand is where a backorder shows;
  -- looked for in the table first, so that the view's arithmetic runs only
  -- on such lines. (The view's reserved is never more than the table's.)
  AND (NOT sqlc.arg(backordered_only)::boolean OR EXISTS (
      SELECT 1 FROM stock_levels b
      WHERE b.shop_id = sl.shop_id AND b.sku = sl.sku AND b.variant_key = sl.variant_key
        AND b.reserved > b.on_hand))
GROUP BY sl.shop_id, sl.sku, sl.variant_key
HAVING (NOT sqlc.arg(low_stock_only)::boolean
        OR greatest(coalesce(sum(e.on_hand), 0) - coalesce(sum(e.reserved), 0) - sl.safety_stock, 0)
           <= coalesce(sl.low_stock_threshold, sqlc.arg(default_threshold)::bigint))
   AND (NOT sqlc.arg(backordered_only)::boolean OR bool_or(e.reserved > e.on_hand))
ORDER BY sl.sku, sl.variant_key
LIMIT sqlc.arg(max);

-- name: CountLowStockLines :one
-- How many of the shop's lines are at or below their low-stock threshold,
-- by ListStockLines' arithmetic, counting no further than max: in line
-- order the count can stop early instead of reading every line.
SELECT count(*)::bigint
FROM (
    SELECT 1
    FROM stock_lines sl
    LEFT JOIN stock_levels_effective e ON e.shop_id = sl.shop_id AND e.sku = sl.sku AND e.variant_key = sl.variant_key
    WHERE sl.shop_id = sqlc.arg(shop_id)
    GROUP BY sl.shop_id, sl.sku, sl.variant_key
    HAVING greatest(coalesce(sum(e.on_hand), 0) - coalesce(sum(e.reserved), 0) - sl.safety_stock, 0)
           <= coalesce(sl.low_stock_threshold, sqlc.arg(default_threshold)::bigint)
    ORDER BY sl.sku, sl.variant_key
    LIMIT sqlc.arg(max)
) low;
