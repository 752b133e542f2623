-- name: CreateShop :one
INSERT INTO shops (id, name)
VALUES (sqlc.arg(id), sqlc.arg(name))
ON CONFLICT DO NOTHING
RETURNING id, name, public_availability, restock_on_refund, created_at;

-- name: ShopExists :one
SELECT EXISTS (SELECT 1 FROM shops WHERE id = sqlc.arg(id));

-- name: GetShop :many
-- A shop with each of its locations, in the order holds take stock from
-- them: one row per location, or one with NULL location columns for a shop
-- without any. One statement, so the shop and its locations are read from
-- one snapshot.
SELECT s.id, s.name, s.public_availability, s.restock_on_refund, s.created_at,
       l.id AS location_id, l.name AS location_name, l.priority AS location_priority
FROM shops s
LEFT JOIN locations l ON l.shop_id = s.id
WHERE s.id = sqlc.arg(id)
ORDER BY l.priority, l.id;

-- name: UpdateShop :many
-- Changes the settings given (a NULL argument keeps the column) and
-- returns the shop as GetShop does, or no row for an unknown shop.
WITH updated AS (
    UPDATE shops s
    SET name = coalesce(sqlc.narg(name)::text, s.name),
        public_availability = coalesce(sqlc.narg(public_availability)::boolean, s.public_availability),
        restock_on_refund = coalesce(sqlc.narg(restock_on_refund)::boolean, s.restock_on_refund)
    WHERE s.id = sqlc.arg(id)
    RETURNING s.id, s.name, s.public_availability, s.restock_on_refund, s.created_at
)
SELECT u.id, u.name, u.public_availability, u.restock_on_refund, u.created_at,
       l.id AS location_id, l.name AS location_name, l.priority AS location_priority
FROM updated u
LEFT JOIN locations l ON l.shop_id = u.id
ORDER BY l.priority, l.id;

-- name: CreateLocation :one
INSERT INTO locations (shop_id, id, name, priority)
VALUES (sqlc.arg(shop_id), sqlc.arg(id), sqlc.arg(name), sqlc.arg(priority))
ON CONFLICT DO NOTHING
RETURNING id, name, priority;

-- name: ListLocations :many
-- A shop's locations in the order holds take stock from them.
SELECT id, name, priority
FROM locations
WHERE shop_id = sqlc.arg(shop_id)
ORDER BY priority, id;

-- name: UpdateLocation :one
-- Changes the settings given (a NULL argument keeps the column) and returns
-- the location, or no row for an unknown one.
UPDATE locations
SET name = coalesce(sqlc.narg(name), name),
    priority = coalesce(sqlc.narg(priority), priority)
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(id)
RETURNING id, name, priority;
