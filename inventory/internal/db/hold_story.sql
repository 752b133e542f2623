-- name: GetHoldRecord :one
-- A hold as stored, every column the console's story of it shows. lapsed
-- tells, by the database's clock, whether an open hold no longer holds
-- stock; expiring, whether it is past its expiry and waits for Stripe.
SELECT h.id, h.status, h.expires_at, h.idempotency_key, h.reference, h.checkout_session_id,
       h.checkout_session_expires_at, h.checkout_mode, h.commit_reference, h.release_reason,
       h.created_at, h.updated_at, h.closed_at,
       coalesce(hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) <= now(), false)::boolean AS lapsed,
       (h.status = 'expiring' OR h.status = 'active' AND h.checkout_session_expires_at IS NOT NULL AND h.expires_at <= now())::boolean AS expiring
FROM holds h
WHERE h.shop_id = sqlc.arg(shop_id) AND h.id = sqlc.arg(id);

-- name: ListHoldMovements :many
-- A hold's movements, oldest first: its RESERVATIONs when placed, then the
-- SALEs of its commit or the RELEASEs of its release or expiry. They are
-- looked for among its lines' movements (movements_line), not the whole
-- ledger, and none is older than the hold.
SELECT m.id, m.sku, m.variant_key, m.location_id, m.type, m.quantity, m.reference, m.notes, m.created_by,
       m.hold_id, m.created_at
FROM movements m
WHERE m.shop_id = sqlc.arg(shop_id)
  AND m.sku = ANY (sqlc.arg(skus)::text[])
  AND m.hold_id = sqlc.arg(hold_id)::text
  AND m.created_at >= sqlc.arg(since)
ORDER BY m.id
LIMIT sqlc.arg(max);

-- name: FindHolds :many
-- The shop's holds that a word names: by id, reference, idempotency key or
-- Stripe Checkout Session, newest first.
SELECT h.id, h.status, h.expires_at, h.reference, h.checkout_session_id, h.created_at,
       h.checkout_session_expires_at,
       coalesce(hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) <= now(), false)::boolean AS lapsed,
       (h.status = 'expiring' OR h.status = 'active' AND h.checkout_session_expires_at IS NOT NULL AND h.expires_at <= now())::boolean AS expiring
FROM holds h
WHERE h.shop_id = sqlc.arg(shop_id)
  AND (h.id = sqlc.arg(word)::text OR h.reference = sqlc.arg(word)::text
       OR h.idempotency_key = sqlc.arg(word)::text OR h.checkout_session_id = sqlc.arg(word)::text)
ORDER BY h.created_at DESC, h.id
LIMIT sqlc.arg(max);
