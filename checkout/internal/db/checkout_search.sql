-- name: FindCheckouts :many
-- The shop's checkouts that a word names: by id, hold, Stripe Checkout
-- Session or PaymentIntent, newest first.
SELECT id, mode, inventory_mode, status, hold_id, stripe_session_id, payment_intent_id, expires_at,
       created_at, updated_at
FROM checkouts
WHERE shop_id = sqlc.arg(shop_id)
  AND (id = sqlc.arg(word)::text OR hold_id = sqlc.arg(word)::text
       OR stripe_session_id = sqlc.arg(word)::text OR payment_intent_id = sqlc.arg(word)::text)
ORDER BY created_at DESC, id
LIMIT sqlc.arg(max);
