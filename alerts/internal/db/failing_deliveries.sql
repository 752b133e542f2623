-- name: ListFailingDeliveries :many
-- The shop's alert deliveries that failed for good, or are still being
-- retried after an error, newest alert first.
SELECT d.alert_id, d.channel, d.status, d.attempts, d.last_error_class, a.kind, a.message, a.created_at
FROM alert_deliveries d
JOIN alerts a ON a.shop_id = d.shop_id AND a.id = d.alert_id
WHERE d.shop_id = sqlc.arg(shop_id)
  AND (d.status = 'failed' OR (d.status = 'pending' AND d.last_error_class IS NOT NULL))
ORDER BY a.created_at DESC, d.alert_id, d.channel
LIMIT sqlc.arg(max);
