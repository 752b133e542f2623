-- As ceiling_hot.sql, on one of 10,000 lines chosen at random.
\set n random(1, 10000)
BEGIN;
UPDATE stock_levels SET reserved = reserved + 1
WHERE shop_id = 'pgbench' AND sku = 'SKU-' || :n AND variant_key = '' AND location_id = 'default'
  AND on_hand - reserved >= 1;
INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity)
VALUES ('pgbench', 'SKU-' || :n, '', 'default', 'RESERVATION', 1);
END;
