-- name: LockGroupHolds :exec
-- Locks the open, unlapsed holds a group of commits and releases closes,
-- before anything else the group does: holds before stock rows is the order
-- CommitHold, CloseHolds and the reaper take them in, and (shop_id, id)
-- makes two groups take theirs in the same order. Holds that are closed or
-- lapsed are left alone: their members' statements change nothing, and the
-- requests that close lapsed holds lock them in an order of their own.
SELECT h.id
FROM holds h
JOIN (SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id, unnest(sqlc.arg(hold_ids)::text[]) AS id) k
    ON h.shop_id = k.shop_id AND h.id = k.id
WHERE h.status IN ('active', 'pending_payment')
  AND h.expires_at > now()
ORDER BY h.shop_id, h.id
FOR NO KEY UPDATE OF h;

-- name: LockGroupStock :exec
-- Locks every stock row a group's statements will lock, once, in the order
-- every statement that locks more than one stock row uses (shop_id, sku,
-- variant_key, location_id), before any of them runs. Each statement then
-- finds its rows already locked by its own transaction, so the group takes
-- them in one fixed order however its members' lines interleave, and two
-- groups, or a group and a single statement, cannot deadlock on them. The
-- rows are those of the lines asked for and of the named holds'
-- allocations, at every location.
WITH wanted AS (
    SELECT unnest(sqlc.arg(shop_ids)::text[]) AS shop_id,
           unnest(sqlc.arg(skus)::text[]) AS sku,
           unnest(sqlc.arg(variant_keys)::text[]) AS variant_key
    UNION
    SELECT a.shop_id, a.sku, a.variant_key
    FROM (SELECT unnest(sqlc.arg(hold_shop_ids)::text[]) AS shop_id, unnest(sqlc.arg(hold_ids)::text[]) AS id) k
    JOIN hold_allocations a ON a.shop_id = k.shop_id AND a.hold_id = k.id
)
SELECT s.location_id
FROM wanted w
JOIN stock_levels s ON s.shop_id = w.shop_id AND s.sku = w.sku AND s.variant_key = w.variant_key
ORDER BY s.shop_id, s.sku, s.variant_key, s.location_id
FOR NO KEY UPDATE OF s;
