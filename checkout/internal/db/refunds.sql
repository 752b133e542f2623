-- name: LockCheckoutByPaymentIntent :one
-- The checkout a payment belongs to, locked first as every event's
-- checkout is, so that a refund and the session's own events apply one at
-- a time.
SELECT id, mode, status, hold_id, amount_refunded, refunded
FROM checkouts
WHERE shop_id = sqlc.arg(shop_id) AND payment_intent_id = sqlc.arg(payment_intent_id)
ORDER BY created_at, id
LIMIT 1
FOR UPDATE;

-- name: RecordCheckoutRefund :exec
-- Records what Stripe has refunded of the checkout's payment. Refunds only
-- grow, so an event delivered late never lowers what a later one recorded.
UPDATE checkouts
SET amount_refunded = greatest(amount_refunded, sqlc.arg(amount_refunded)::bigint),
    refunded = refunded OR sqlc.arg(refunded)::boolean,
    refunded_at = CASE WHEN refunded OR NOT sqlc.arg(refunded)::boolean THEN refunded_at ELSE now() END,
    updated_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);

-- name: GetCheckoutRefund :one
-- What a checkout's payment has had refunded: for checkouttest.
SELECT amount_refunded, refunded, refunded_at
FROM checkouts
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);
