-- name: ListShops :many
-- Shops in id order after the cursor ('' for the first page). No shop_id
-- predicate, on purpose: this is the service token's shop picker
-- (Ledger.Shops), which lists every shop; no caller acting for a shop
-- reaches it.
SELECT id, name, created_at
FROM shops
WHERE id > sqlc.arg(after_id)::text
ORDER BY id
LIMIT sqlc.arg(max);
