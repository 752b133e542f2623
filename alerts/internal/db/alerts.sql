-- name: LockShopAlertBudget :one
-- Locks the shop's alert budget, created empty on first use, and reads it
-- with the time to judge its window by. Checkers of one shop, on any
-- replica, serialize here until the claimer's transaction ends, so SetAlertBudget
-- writes a count no one else changed.
INSERT INTO alert_budgets AS b (shop_id, window_started_at, sent, held)
VALUES (sqlc.arg(shop_id), statement_timestamp(), 0, 0)
ON CONFLICT (shop_id) DO UPDATE SET shop_id = b.shop_id
RETURNING b.window_started_at, b.sent, b.held, statement_timestamp()::timestamptz AS now;

-- name: SetAlertBudget :exec
UPDATE alert_budgets
SET window_started_at = sqlc.arg(window_started_at), sent = sqlc.arg(sent), held = sqlc.arg(held)
WHERE shop_id = sqlc.arg(shop_id);

-- name: LockAlertBudget :one
-- Locks the shop's budget row for a digest, so that every alert held by a
-- claim before it has committed, and resets the held count: the next alert
-- held asks for another digest, so none is left without one.
UPDATE alert_budgets
SET held = 0
WHERE shop_id = sqlc.arg(shop_id)
RETURNING window_started_at;

-- name: AlertsAwaitingDigest :many
-- The shop's held alerts no digest has carried yet, oldest first (those of
-- one check by line).
SELECT id, sku, variant_key
FROM alerts
WHERE shop_id = sqlc.arg(shop_id) AND held AND digest_id IS NULL
ORDER BY created_at, sku, variant_key, id
FOR UPDATE;

-- name: SetAlertsDigest :exec
UPDATE alerts
SET digest_id = sqlc.arg(digest_id)
WHERE shop_id = sqlc.arg(shop_id) AND id = ANY (sqlc.arg(ids)::text[]) AND held AND digest_id IS NULL;

-- name: InsertAlert :one
-- Records an alert; an oversold order has at most one (no row when it has).
INSERT INTO alerts (shop_id, id, kind, sku, variant_key, available, threshold, oversold_id, message, held)
VALUES (sqlc.arg(shop_id), sqlc.arg(id), sqlc.arg(kind), sqlc.narg(sku), sqlc.narg(variant_key),
        sqlc.narg(available), sqlc.narg(threshold), sqlc.narg(oversold_id), sqlc.arg(message), sqlc.arg(held))
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
-- Records one delivery attempt: delivered, or the class of the error that
-- will be retried (failed once the job gives up).
UPDATE alert_deliveries
SET status = sqlc.arg(status),
    attempts = attempts + 1,
    last_error_class = sqlc.narg(last_error_class),
    delivered_at = CASE WHEN sqlc.arg(status) = 'delivered' THEN now() ELSE delivered_at END
WHERE shop_id = sqlc.arg(shop_id) AND alert_id = sqlc.arg(alert_id) AND channel = sqlc.arg(channel)
  AND status <> 'delivered';

-- name: ListAlerts :many
-- A page of a shop's alerts, newest first, after the cursor (created_at, id).
SELECT id, kind, sku, variant_key, available, threshold, oversold_id, message, created_at, held, digest_id
FROM alerts
WHERE shop_id = sqlc.arg(shop_id)
  AND (created_at, id) < (sqlc.arg(before)::timestamptz, sqlc.arg(before_id)::text)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(max);

-- name: ListAlertDeliveries :many
SELECT alert_id, channel, status, attempts, last_error_class, delivered_at
FROM alert_deliveries
WHERE shop_id = sqlc.arg(shop_id) AND alert_id = ANY (sqlc.arg(alert_ids)::text[])
ORDER BY alert_id, channel;
