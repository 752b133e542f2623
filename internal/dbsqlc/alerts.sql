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

-- name: ClaimLowStockAlert :one
-- The debounce: claims the line's low-stock alert unless one went out within
-- the interval. Concurrent claims for one line serialize on its row; one wins.
UPDATE stock_lines
SET low_stock_alerted_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND sku = sqlc.arg(sku) AND variant_key = sqlc.arg(variant_key)
  AND (low_stock_alerted_at IS NULL
       OR low_stock_alerted_at <= now() - make_interval(secs => sqlc.arg(interval_seconds)::int))
RETURNING low_stock_alerted_at;

-- name: InsertAlert :one
-- Records an alert; an oversold order has at most one (no row when it has).
INSERT INTO alerts (shop_id, id, kind, sku, variant_key, available, threshold, oversold_id, message)
VALUES (sqlc.arg(shop_id), sqlc.arg(id), sqlc.arg(kind), sqlc.narg(sku), sqlc.narg(variant_key),
        sqlc.narg(available), sqlc.narg(threshold), sqlc.narg(oversold_id), sqlc.arg(message))
ON CONFLICT DO NOTHING
RETURNING created_at;

-- name: InsertAlertDelivery :exec
INSERT INTO alert_deliveries (shop_id, alert_id, channel)
VALUES (sqlc.arg(shop_id), sqlc.arg(alert_id), sqlc.arg(channel))
ON CONFLICT DO NOTHING;

-- name: GetAlert :one
SELECT id, kind, sku, variant_key, available, threshold, oversold_id, message, created_at
FROM alerts
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);

-- name: GetAlertDelivery :one
SELECT status, attempts
FROM alert_deliveries
WHERE shop_id = sqlc.arg(shop_id) AND alert_id = sqlc.arg(alert_id) AND channel = sqlc.arg(channel);

-- name: RecordAlertDelivery :exec
-- Records one delivery attempt: delivered, or the error that will be
-- retried (failed once the job gives up).
UPDATE alert_deliveries
SET status = sqlc.arg(status),
    attempts = attempts + 1,
    last_error = sqlc.narg(last_error),
    delivered_at = CASE WHEN sqlc.arg(status) = 'delivered' THEN now() ELSE delivered_at END
WHERE shop_id = sqlc.arg(shop_id) AND alert_id = sqlc.arg(alert_id) AND channel = sqlc.arg(channel)
  AND status <> 'delivered';

-- name: ListAlerts :many
-- A page of a shop's alerts, newest first, after the cursor (created_at, id).
SELECT id, kind, sku, variant_key, available, threshold, oversold_id, message, created_at
FROM alerts
WHERE shop_id = sqlc.arg(shop_id)
  AND (created_at, id) < (sqlc.arg(before)::timestamptz, sqlc.arg(before_id)::text)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(max);

-- name: ListAlertDeliveries :many
SELECT alert_id, channel, status, attempts, last_error, delivered_at
FROM alert_deliveries
WHERE shop_id = sqlc.arg(shop_id) AND alert_id = ANY (sqlc.arg(alert_ids)::text[])
ORDER BY alert_id, channel;

-- name: RequestStockCheck :exec
-- Asks for a low-stock check of one line, for changes that can make a line
-- low without lowering its stock (a higher threshold or safety stock).
INSERT INTO stock_checks (shop_id, sku, variant_key)
VALUES (sqlc.arg(shop_id), sqlc.arg(sku), sqlc.arg(variant_key))
ON CONFLICT DO NOTHING;
