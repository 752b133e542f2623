-- name: CreateAPIKey :exec
INSERT INTO api_keys (shop_id, id, name, secret_hash)
VALUES (sqlc.arg(shop_id), sqlc.arg(id), sqlc.arg(name), sqlc.arg(secret_hash));

-- name: GetAPIKey :one
SELECT secret_hash, revoked_at
FROM api_keys
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id);

-- name: ListAPIKeys :many
SELECT shop_id, id, name, created_at, revoked_at
FROM api_keys
WHERE shop_id = sqlc.arg(shop_id)
ORDER BY created_at, id;

-- name: RevokeAPIKey :execrows
UPDATE api_keys
SET revoked_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id) AND revoked_at IS NULL;
