-- name: TakeStockChecks :many
-- Takes up to max requested low-stock checks, oldest first. Checkers running
-- side by side take different rows.
WITH taken AS (
    SELECT shop_id, sku, variant_key
    FROM stock_checks
    ORDER BY requested_at
    LIMIT sqlc.arg(max)
    FOR UPDATE SKIP LOCKED
)
DELETE FROM stock_checks c
USING taken t
WHERE c.shop_id = t.shop_id AND c.sku = t.sku AND c.variant_key = t.variant_key
RETURNING c.shop_id, c.sku, c.variant_key;

-- name: RequestStockCheck :exec
-- Asks for a low-stock check of one line, for changes that can make a line
-- low without lowering its stock (a higher threshold or safety stock).
INSERT INTO stock_checks (shop_id, sku, variant_key)
VALUES (sqlc.arg(shop_id), sqlc.arg(sku), sqlc.arg(variant_key))
ON CONFLICT DO NOTHING;

-- name: ClaimLowStockAlert :one
-- The debounce: claims the line's low-stock alert unless one went out within
-- the interval. Concurrent claims for one line serialize on its row; one wins.
UPDATE stock_lines
SET low_stock_alerted_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND sku = sqlc.arg(sku) AND variant_key = sqlc.arg(variant_key)
  AND (low_stock_alerted_at IS NULL
       OR low_stock_alerted_at <= now() - make_interval(secs => sqlc.arg(interval_seconds)::int))
RETURNING low_stock_alerted_at;
