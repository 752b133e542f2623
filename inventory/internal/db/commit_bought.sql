-- name: CommitBoughtHold :many
-- Commits an open, unexpired hold for what the customer bought of it, which
-- may be less than it holds: a checkout whose quantities the customer could
-- change on Stripe's page holds each such line's maximum. The bought units
-- leave on_hand and reserved together, with a SALE movement per allocation
-- they come from; the rest leave reserved, with a RELEASE movement per
-- allocation, as a release's would. The hold's allocations shrink to what
-- was sold (one nothing was sold from is deleted), so the committed hold
-- says what it sold, as a whole commit's does; its RESERVATION movements
-- keep what it held.
--
-- Of each line, the units sold are the ones the hold took first: its free
-- units in location priority order, then its backordered ones. What goes
-- back is backorders first, then the stock of the last locations drawn on.
--
-- A hold is only closed when no line of the request asks for more than the
-- hold holds of it (nothing of a line it does not hold). Nothing is returned
-- then, nor for a hold that is not open or has lapsed: the caller looks at
-- why. Otherwise it returns a row per allocation left, or one row with an
-- empty location_id when nothing was sold. Like CommitHolds, it locks the
-- hold before the stock rows, those in their global order, and sets every
-- column the stock_levels CHECKs read from the locked rows.
WITH req AS (
    SELECT unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key,
           unnest(sqlc.arg(quantities)::bigint[]) AS quantity
),
closed AS (
    UPDATE holds h
    SET status = 'committed',
        commit_reference = sqlc.arg(reference)::text,
        closed_at = now(),
        updated_at = now()
    WHERE h.shop_id = sqlc.arg(shop_id)
      AND h.id = sqlc.arg(hold_id)
      AND h.status IN ('active', 'pending_payment', 'expiring')
      AND hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) > now()
      AND NOT EXISTS (
          SELECT 1
          FROM req r
          WHERE r.quantity > (
              SELECT coalesce(sum(a.quantity), 0)
              FROM hold_allocations a
              WHERE a.shop_id = h.shop_id AND a.hold_id = h.id AND a.sku = r.sku AND a.variant_key = r.variant_key
          )
      )
    RETURNING h.shop_id, h.id, h.expires_at, h.created_at, h.reference, h.checkout_session_id,
              h.checkout_session_expires_at, h.checkout_mode
),
alloc AS (
    SELECT a.sku, a.variant_key, a.location_id, a.quantity, a.backordered,
           coalesce(loc.priority, 0) AS priority,
           coalesce(r.quantity, 0) AS bought
    FROM closed c
    JOIN hold_allocations a ON a.shop_id = c.shop_id AND a.hold_id = c.id
    LEFT JOIN locations loc ON loc.shop_id = a.shop_id AND loc.id = a.location_id
    LEFT JOIN req r ON r.sku = a.sku AND r.variant_key = a.variant_key
),
pieces AS (
    -- Each allocation as its units on hand and its backordered units, each
    -- selling what the line's bought quantity leaves after the pieces
    -- before it.
    SELECT p.sku, p.variant_key, p.location_id, p.backorder,
           least(p.quantity, greatest(p.bought - coalesce(sum(p.quantity) OVER (
               PARTITION BY p.sku, p.variant_key
               ORDER BY p.backorder, p.priority, p.location_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0)) AS sold
    FROM (
        SELECT a.sku, a.variant_key, a.location_id, a.priority, a.bought, false AS backorder, a.quantity - a.backordered AS quantity
        FROM alloc a
        UNION ALL
        SELECT a.sku, a.variant_key, a.location_id, a.priority, a.bought, true, a.backordered
        FROM alloc a
    ) p
),
split AS (
    SELECT a.sku, a.variant_key, a.location_id, a.priority, a.quantity,
           sum(p.sold)::bigint AS sold,
           coalesce(sum(p.sold) FILTER (WHERE p.backorder), 0)::bigint AS sold_backordered
    FROM alloc a
    JOIN pieces p ON p.sku = a.sku AND p.variant_key = a.variant_key AND p.location_id = a.location_id
    GROUP BY a.sku, a.variant_key, a.location_id, a.priority, a.quantity
),
locked AS (
    SELECT s.sku, s.variant_key, s.location_id, s.on_hand, s.reserved, s.backorder_limit
    FROM stock_levels s
    JOIN split p ON p.sku = s.sku AND p.variant_key = s.variant_key AND p.location_id = s.location_id
    WHERE s.shop_id = sqlc.arg(shop_id)
    ORDER BY s.sku, s.variant_key, s.location_id
    FOR NO KEY UPDATE OF s
),
moved AS (
    UPDATE stock_levels s
    SET on_hand = k.on_hand - p.sold,
        reserved = k.reserved - p.quantity,
        backorder_limit = k.backorder_limit,
        updated_at = now()
    FROM split p
    JOIN locked k ON k.sku = p.sku AND k.variant_key = p.variant_key AND k.location_id = p.location_id
    WHERE s.shop_id = sqlc.arg(shop_id)
      AND s.sku = p.sku AND s.variant_key = p.variant_key AND s.location_id = p.location_id
),
shrunk AS (
    UPDATE hold_allocations a
    SET quantity = p.sold,
        backordered = p.sold_backordered
    FROM split p
    WHERE a.shop_id = sqlc.arg(shop_id) AND a.hold_id = sqlc.arg(hold_id)
      AND a.sku = p.sku AND a.variant_key = p.variant_key AND a.location_id = p.location_id
      AND p.sold > 0 AND p.sold < p.quantity
),
dropped AS (
    DELETE FROM hold_allocations a
    USING split p
    WHERE a.shop_id = sqlc.arg(shop_id) AND a.hold_id = sqlc.arg(hold_id)
      AND a.sku = p.sku AND a.variant_key = p.variant_key AND a.location_id = p.location_id
      AND p.sold = 0
),
recorded AS (
    INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, notes, hold_id)
    SELECT sqlc.arg(shop_id), m.sku, m.variant_key, m.location_id, m.type, m.quantity, m.reference, m.notes, sqlc.arg(hold_id)
    FROM (
        SELECT p.sku, p.variant_key, p.location_id, p.priority, 0 AS kind, 'SALE' AS type, -p.sold AS quantity,
               sqlc.arg(reference)::text AS reference, coalesce(c.checkout_mode, '') AS notes
        FROM split p, closed c
        WHERE p.sold > 0
        UNION ALL
        SELECT p.sku, p.variant_key, p.location_id, p.priority, 1, 'RELEASE', -(p.quantity - p.sold),
               'not_bought', ''
        FROM split p
        WHERE p.sold < p.quantity
    ) m
    ORDER BY m.kind, m.sku, m.variant_key, m.priority, m.location_id
)
SELECT c.expires_at, c.created_at, c.reference, c.checkout_session_id, c.checkout_session_expires_at,
       coalesce(p.sku, '')::text AS sku,
       coalesce(p.variant_key, '')::text AS variant_key,
       coalesce(p.location_id, '')::text AS location_id,
       coalesce(p.sold, 0)::bigint AS quantity,
       coalesce(p.sold_backordered, 0)::bigint AS backordered
FROM closed c
LEFT JOIN split p ON p.sold > 0
ORDER BY p.sku, p.variant_key, p.priority, p.location_id;
