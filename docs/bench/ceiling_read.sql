-- The least a stock read can do: one primary-key select of a stock row, on
-- one of 10,000 lines chosen at random. The ceiling for validate and a
-- stock read over HTTP.
\set n random(1, 10000)
SELECT on_hand, reserved FROM stock_levels
WHERE shop_id = 'pgbench' AND sku = 'SKU-' || :n AND variant_key = '' AND location_id = 'default';
