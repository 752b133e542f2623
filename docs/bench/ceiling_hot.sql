-- The least a reservation can do: one conditional UPDATE of the stock row and
-- one ledger INSERT, in one transaction, on the one hot line.
BEGIN;
UPDATE stock_levels SET reserved = reserved + 1
WHERE shop_id = 'pgbench' AND sku = 'SKU-0' AND variant_key = '' AND location_id = 'default'
  AND on_hand - reserved >= 1;
INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity)
VALUES ('pgbench', 'SKU-0', '', 'default', 'RESERVATION', 1);
END;
