-- name: RecordStripeEvent :one
-- Records an event in the inbox; no row when it was recorded before.
INSERT INTO stripe_events (shop_id, id, type, stripe_session_id, api_version, outcome)
VALUES (sqlc.arg(shop_id), sqlc.arg(id), sqlc.arg(type), sqlc.narg(stripe_session_id), sqlc.arg(api_version), sqlc.arg(outcome))
ON CONFLICT DO NOTHING
RETURNING id;

-- name: SetStripeEventOutcome :exec
UPDATE stripe_events SET outcome = sqlc.arg(outcome)
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);
