-- name: InsertCheckout :one
-- Records a checkout before anything else happens, claiming its idempotency
-- key. A concurrent request with the same key waits here for the first to
-- commit, then gets no row.
INSERT INTO checkouts (shop_id, id, mode, inventory_mode, ui_mode, idempotency_key, request_hash, lines)
VALUES (sqlc.arg(shop_id), sqlc.arg(id), sqlc.arg(mode), sqlc.arg(inventory_mode), sqlc.arg(ui_mode),
        sqlc.narg(idempotency_key), sqlc.arg(request_hash), sqlc.arg(lines))
ON CONFLICT (shop_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING created_at;

-- name: GetCheckoutByIdempotencyKey :one
SELECT shop_id, id, mode, inventory_mode, ui_mode, request_hash, lines, hold_id, stripe_session_id, stripe_url,
       stripe_client_secret, expires_at, status, created_at,
       (now() - updated_at)::interval > make_interval(secs => sqlc.arg(abandoned_after_seconds)::int) AS abandoned
FROM checkouts
WHERE shop_id = sqlc.arg(shop_id) AND idempotency_key = sqlc.arg(idempotency_key)::text;

-- name: SetCheckoutHold :exec
UPDATE checkouts
SET hold_id = sqlc.arg(hold_id), updated_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);

-- name: OpenCheckout :one
-- Records the Stripe session of a checkout; its hold, if any, learns of the
-- session from inventory in the same transaction.
UPDATE checkouts
SET stripe_session_id = sqlc.arg(stripe_session_id),
    stripe_url = sqlc.narg(stripe_url),
    stripe_client_secret = sqlc.narg(stripe_client_secret),
    expires_at = sqlc.arg(expires_at),
    status = 'open',
    updated_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(checkout_id)
RETURNING hold_id;

-- name: DeleteCheckout :exec
-- Forgets a checkout whose session could not be created, freeing its
-- idempotency key for a retry.
DELETE FROM checkouts
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id) AND status = 'creating';

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

-- name: ListCheckoutsBySession :many
-- The checkouts a Stripe session was created for, in one shop or in any
-- (a development tool's look-up: sessions are unique per shop only).
SELECT shop_id, id, mode, inventory_mode, hold_id
FROM checkouts
WHERE stripe_session_id = sqlc.arg(stripe_session_id)
  AND (sqlc.arg(shop_id)::text = '' OR shop_id = sqlc.arg(shop_id)::text)
ORDER BY shop_id
LIMIT sqlc.arg(max);

-- name: ListShopCheckouts :many
-- The shop's checkouts as stored, oldest first: for checkouttest, with
-- which tests check what Create and Settle recorded.
SELECT id, mode, inventory_mode, idempotency_key, hold_id, stripe_session_id, stripe_url,
       expires_at, status, payment_intent_id, updated_at
FROM checkouts
WHERE shop_id = sqlc.arg(shop_id)
ORDER BY created_at, id;
