-- name: SetRentalDue :execrows
-- Records when a rental hold's units are due back, and that the hold is a
-- rental's: a cart's hold a rental checkout adopted was placed without a
-- mode.
UPDATE holds
SET rental_due_at = sqlc.arg(due_at), checkout_mode = 'rental', updated_at = now()
WHERE shop_id = sqlc.arg(shop_id) AND id = sqlc.arg(hold_id);

-- name: ListRentals :many
-- The shop's committed rental holds, newest first, with the units their
-- commit sold (the allocations, which a commit for less shrinks to what it
-- sold) and how many have come back. status '' keeps every one; otherwise
-- returned (every unit back), overdue (due, some still out) or out.
WITH rentals AS (
    SELECT h.id, h.reference, h.rental_due_at, h.created_at,
           coalesce((SELECT sum(a.quantity) FROM hold_allocations a
                     WHERE a.shop_id = h.shop_id AND a.hold_id = h.id), 0)::bigint AS sold,
           coalesce((SELECT sum(r.returned) FROM hold_returns r
                     WHERE r.shop_id = h.shop_id AND r.hold_id = h.id), 0)::bigint AS returned
    FROM holds h
    WHERE h.shop_id = sqlc.arg(shop_id)
      AND h.rental_due_at IS NOT NULL
      AND h.status = 'committed'
      AND (h.created_at, h.id) < (sqlc.arg(after_created_at)::timestamptz, sqlc.arg(after_id)::text)
)
SELECT r.id, r.reference, r.rental_due_at::timestamptz AS due_at, r.created_at, r.sold, r.returned,
       (CASE WHEN r.returned >= r.sold THEN 'returned'
             WHEN r.rental_due_at <= now() THEN 'overdue'
             ELSE 'out' END)::text AS status
FROM rentals r
WHERE sqlc.arg(status)::text = ''
   OR sqlc.arg(status)::text = CASE WHEN r.returned >= r.sold THEN 'returned'
                                    WHEN r.rental_due_at <= now() THEN 'overdue'
                                    ELSE 'out' END
ORDER BY r.created_at DESC, r.id DESC
LIMIT sqlc.arg(max);

-- name: ListRentalLines :many
-- The lines of some rental holds: what each sold and how much came back.
SELECT a.hold_id, a.sku, a.variant_key, sum(a.quantity)::bigint AS sold,
       coalesce((SELECT sum(r.returned) FROM hold_returns r
                 WHERE r.shop_id = a.shop_id AND r.hold_id = a.hold_id
                   AND r.sku = a.sku AND r.variant_key = a.variant_key), 0)::bigint AS returned
FROM hold_allocations a
WHERE a.shop_id = sqlc.arg(shop_id) AND a.hold_id = ANY (sqlc.arg(hold_ids)::text[])
GROUP BY a.shop_id, a.hold_id, a.sku, a.variant_key
ORDER BY a.hold_id, a.sku, a.variant_key;
