-- name: LockCheckoutBySession :one
-- The checkout a session belongs to, locked so that events for one session
-- are applied one at a time, whatever order they arrive in.
SELECT id, mode, inventory_mode, lines, hold_id, status
FROM checkouts
WHERE shop_id = sqlc.arg(shop_id) AND stripe_session_id = sqlc.arg(stripe_session_id)
FOR UPDATE;

-- name: SettleCheckout :exec
UPDATE checkouts
SET status = sqlc.arg(status),
    hold_id = coalesce(sqlc.narg(hold_id), hold_id),
    payment_intent_id = coalesce(sqlc.narg(payment_intent_id), payment_intent_id),
    updated_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);

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
