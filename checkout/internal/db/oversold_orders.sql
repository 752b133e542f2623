-- name: InsertOversoldOrder :exec
INSERT INTO oversold_orders (shop_id, id, checkout_id, stripe_session_id, payment_intent_id, event_id, lines, shortfall, refund_requested)
VALUES (sqlc.arg(shop_id), sqlc.arg(id), sqlc.arg(checkout_id), sqlc.arg(stripe_session_id), sqlc.narg(payment_intent_id),
        sqlc.arg(event_id), sqlc.arg(lines), sqlc.arg(shortfall), sqlc.arg(refund_requested))
ON CONFLICT DO NOTHING;

-- name: ListOversoldOrders :many
-- A page of a shop's oversold orders, newest first. The cursor is the last
-- order of the previous page, (created_at, id), so orders created at the
-- same instant are never split or skipped.
SELECT id, checkout_id, stripe_session_id, payment_intent_id, event_id, lines, shortfall, refund_requested, created_at
FROM oversold_orders
WHERE shop_id = sqlc.arg(shop_id)
  AND (created_at, id) < (sqlc.arg(before)::timestamptz, sqlc.arg(before_id)::text)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(max);
