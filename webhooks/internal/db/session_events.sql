-- name: ListSessionEvents :many
-- The Stripe events recorded for one of the shop's Checkout Sessions, in
-- the order they arrived.
SELECT id, type, api_version, outcome, received_at
FROM stripe_events
WHERE shop_id = sqlc.arg(shop_id)
  AND stripe_session_id = sqlc.arg(stripe_session_id)::text
ORDER BY received_at, id
LIMIT sqlc.arg(max);
