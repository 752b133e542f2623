-- name: GetCheckoutToSettle :one
-- The checkout a session belongs to, read without a lock before the
-- event's transaction opens, to learn what the settler must first ask
-- Stripe. Its lines never change once recorded; its status is read again,
-- locked, in the transaction.
SELECT id, lines, status
FROM checkouts
WHERE shop_id = sqlc.arg(shop_id) AND stripe_session_id = sqlc.arg(stripe_session_id);

-- name: RecordCheckoutBought :exec
-- Records what a checkout with adjustable lines was paid for, in the
-- transaction that settles it.
UPDATE checkouts
SET bought = sqlc.arg(bought),
    review_reason = sqlc.narg(review_reason),
    updated_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);

-- name: GetCheckoutBought :one
-- What a checkout was paid for, as RecordCheckoutBought recorded it: for
-- checkouttest.
SELECT bought, review_reason
FROM checkouts
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);
