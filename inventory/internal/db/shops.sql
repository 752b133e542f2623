-- name: CreateShop :one
INSERT INTO shops (id, name)
VALUES (sqlc.arg(id), sqlc.arg(name))
ON CONFLICT DO NOTHING
RETURNING id;

-- name: ShopExists :one
SELECT EXISTS (SELECT 1 FROM shops WHERE id = sqlc.arg(id));

-- name: CreateLocation :one
INSERT INTO locations (shop_id, id, name, priority)
VALUES (sqlc.arg(shop_id), sqlc.arg(id), sqlc.arg(name), sqlc.arg(priority))
ON CONFLICT DO NOTHING
RETURNING id;
