-- name: ListMovements :many
-- A shop's ledger, newest first. before_id is the cursor: the id of the last
-- movement of the previous page.
SELECT id, sku, variant_key, location_id, type, quantity, reference, notes, created_by, hold_id, created_at
FROM movements
WHERE shop_id = sqlc.arg(shop_id)
  AND id < sqlc.arg(before_id)
ORDER BY id DESC
LIMIT sqlc.arg(max);

-- name: ListSKUMovements :many
-- As ListMovements, for one sku, and one variant of it when variant_key is
-- not NULL.
SELECT id, sku, variant_key, location_id, type, quantity, reference, notes, created_by, hold_id, created_at
FROM movements
WHERE shop_id = sqlc.arg(shop_id)
  AND sku = sqlc.arg(sku)
  AND (sqlc.narg(variant_key)::text IS NULL OR variant_key = sqlc.narg(variant_key))
  AND id < sqlc.arg(before_id)
ORDER BY id DESC
LIMIT sqlc.arg(max);
