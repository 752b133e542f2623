-- name: CountOpenHolds :one
-- The shop's open holds: those still holding stock, those of them whose
-- expiry comes within the window, those past their expiry that still hold
-- their stock while Stripe is asked to close their session (expiring), and
-- those that no longer hold stock and that the reaper has not closed yet.
SELECT count(*) FILTER (WHERE hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) > now())::bigint AS in_flight,
       count(*) FILTER (WHERE h.status <> 'expiring' AND h.expires_at > now()
                          AND h.expires_at <= now() + make_interval(secs => sqlc.arg(within_seconds)::int))::bigint AS ending_soon,
       count(*) FILTER (WHERE h.expires_at <= now()
                          AND hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) > now())::bigint AS awaiting_stripe,
       count(*) FILTER (WHERE hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) <= now())::bigint AS lapsed
FROM holds h
WHERE h.shop_id = sqlc.arg(shop_id)
  AND h.status IN ('active', 'pending_payment', 'expiring');

-- name: ListHoldsEndingSoon :many
-- The shop's open holds whose expiry comes within the window, soonest first.
SELECT h.id, h.status, h.expires_at, h.reference, h.checkout_session_id, h.created_at
FROM holds h
WHERE h.shop_id = sqlc.arg(shop_id)
  AND h.status IN ('active', 'pending_payment')
  AND h.expires_at > now()
  AND h.expires_at <= now() + make_interval(secs => sqlc.arg(within_seconds)::int)
ORDER BY h.expires_at, h.id
LIMIT sqlc.arg(max);

-- name: ListLineOpenHolds :many
-- The open holds on one line, soonest expiry first, with what each holds of
-- it across locations; lapsed ones (open_until passed) and expiring ones
-- included and marked.
SELECT h.id, h.status, h.expires_at, h.reference, h.checkout_session_id, h.created_at,
       sum(a.quantity)::bigint AS quantity,
       sum(a.backordered)::bigint AS backordered,
       coalesce(hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) <= now(), false)::boolean AS lapsed,
       (h.status = 'expiring' OR h.status = 'active' AND h.checkout_session_expires_at IS NOT NULL AND h.expires_at <= now())::boolean AS expiring
FROM hold_allocations a
JOIN holds h ON h.shop_id = a.shop_id AND h.id = a.hold_id
WHERE a.shop_id = sqlc.arg(shop_id)
  AND a.sku = sqlc.arg(sku)
  AND a.variant_key = sqlc.arg(variant_key)
  AND a.open_until IS NOT NULL
GROUP BY h.shop_id, h.id
ORDER BY h.expires_at, h.id
LIMIT sqlc.arg(max);
