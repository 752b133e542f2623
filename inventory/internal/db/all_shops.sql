-- name: ListShops :many
-- Shops in id order after the cursor ('' for the first page).
SELECT id, name, created_at
FROM shops
WHERE id > sqlc.arg(after_id)::text
ORDER BY id
LIMIT sqlc.arg(max);
