-- name: ReadLineLimits :many
-- The limits of the requested lines that have any; an unknown or unlimited
-- line has no row.
SELECT sl.sku, sl.variant_key, sl.max_per_order, sl.max_per_customer
FROM stock_lines sl
JOIN (SELECT unnest(sqlc.arg(skus)::text[]) AS sku, unnest(sqlc.arg(variant_keys)::text[]) AS variant_key) r
    ON r.sku = sl.sku AND r.variant_key = sl.variant_key
WHERE sl.shop_id = sqlc.arg(shop_id)
  AND (sl.max_per_order > 0 OR sl.max_per_customer > 0);

-- name: LockPurchaseLimitCustomer :exec
-- Creates and locks the customer's row in one statement: a concurrent
-- first insert waits on the row's unique index and then takes the update's
-- lock, so every hold of one customer's limited lines queues here.
INSERT INTO purchase_limit_customers (shop_id, customer_hash)
VALUES (sqlc.arg(shop_id), sqlc.arg(customer_hash))
ON CONFLICT (shop_id, customer_hash) DO UPDATE SET locked_at = now();

-- name: CustomerLineUnits :many
-- Per requested line, its max_per_customer now and the units the customer
-- has of it in holds placed within the last window_seconds that still hold
-- stock or were sold: open holds that have not lapsed, and committed ones
-- (a commit for less than was held has shrunk its allocations to what was
-- sold). exclude_hold_id, when not '', is a hold whose lines are being
-- set anew and so count as the request has them. Run after
-- LockPurchaseLimitCustomer, so that no other hold of the customer's is
-- being placed meanwhile.
WITH req AS (
    SELECT unnest(sqlc.arg(skus)::text[]) AS sku, unnest(sqlc.arg(variant_keys)::text[]) AS variant_key
)
SELECT req.sku::text AS sku, req.variant_key::text AS variant_key,
       coalesce(sl.max_per_customer, 0)::bigint AS max_per_customer,
       coalesce((
           SELECT sum(a.quantity)
           FROM purchase_limit_holds p
           JOIN holds h ON h.shop_id = p.shop_id AND h.id = p.hold_id
           JOIN hold_allocations a ON a.shop_id = h.shop_id AND a.hold_id = h.id
           WHERE p.shop_id = sqlc.arg(shop_id) AND p.customer_hash = sqlc.arg(customer_hash)
             AND p.created_at >= now() - sqlc.arg(window_seconds)::bigint * interval '1 second'
             AND p.hold_id <> sqlc.arg(exclude_hold_id)
             AND a.sku = req.sku AND a.variant_key = req.variant_key
             AND (h.status = 'committed'
                  OR (h.status IN ('active', 'pending_payment', 'expiring')
                      AND hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) > now()))
       ), 0)::bigint AS units
FROM req
LEFT JOIN stock_lines sl ON sl.shop_id = sqlc.arg(shop_id) AND sl.sku = req.sku AND sl.variant_key = req.variant_key;

-- name: RecordPurchaseLimitHold :exec
INSERT INTO purchase_limit_holds (shop_id, hold_id, customer_hash)
VALUES (sqlc.arg(shop_id), sqlc.arg(hold_id), sqlc.arg(customer_hash))
ON CONFLICT DO NOTHING;
