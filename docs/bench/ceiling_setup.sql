-- Stock for the pgbench ceiling: one hot line and 10,000 cold ones, on the
-- real schema (run `checkoutd migrate` on the database first).
DELETE FROM movements WHERE shop_id = 'pgbench';
DELETE FROM stock_levels WHERE shop_id = 'pgbench';
DELETE FROM stock_lines WHERE shop_id = 'pgbench';
DELETE FROM locations WHERE shop_id = 'pgbench';
DELETE FROM shops WHERE id = 'pgbench';
INSERT INTO shops (id) VALUES ('pgbench');
INSERT INTO locations (shop_id, id) VALUES ('pgbench', 'default');
INSERT INTO stock_lines (shop_id, sku, variant_key)
SELECT 'pgbench', 'SKU-' || i, '' FROM generate_series(0, 10000) AS i;
INSERT INTO stock_levels (shop_id, sku, variant_key, location_id, on_hand)
SELECT 'pgbench', 'SKU-' || i, '', 'default', 1000000000000 FROM generate_series(0, 10000) AS i;
VACUUM ANALYZE stock_levels;
