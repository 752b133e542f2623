-- Reads discount lapsed holds by looking only at the rows they read.
--
-- stock_levels_effective used to find lapsed holds by walking every open
-- hold past its expiry, across all shops and lines, for every stock row it
-- returned: with the reaper behind, every read paid for the whole backlog.
-- Now each allocation carries a copy of its hold's expiry while the hold is
-- open (open_until; NULL once the hold is closed), and a partial index on
-- (shop, line, location, open_until) of open allocations lets a read sum just
-- the lapsed allocations of the rows it reads.
--
-- The copy is kept in step by the database, whoever writes holds: the
-- reserve statement writes it with the allocations, and a trigger follows
-- every change of a hold's status or expiry (commit, release, expiry,
-- extend, awaiting payment, and any manual fix). `checkoutd ledger check`
-- proves the copies agree.

-- +goose Up
ALTER TABLE hold_allocations ADD COLUMN open_until timestamptz;

UPDATE hold_allocations a
SET open_until = h.expires_at
FROM holds h
WHERE h.shop_id = a.shop_id AND h.id = a.hold_id
  AND h.status IN ('active', 'pending_payment');

CREATE INDEX hold_allocations_open_by_line
    ON hold_allocations (shop_id, sku, variant_key, location_id, open_until)
    INCLUDE (quantity)
    WHERE open_until IS NOT NULL;

-- One call per statement, however many holds it changed: the reaper closes
-- a thousand at a time. Statements that leave status and expiry alone (a
-- checkout recording its session) find nothing to change.
-- +goose StatementBegin
CREATE FUNCTION hold_allocations_follow_holds() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE hold_allocations a
    SET open_until = CASE WHEN n.status IN ('active', 'pending_payment') THEN n.expires_at END
    FROM changed_holds n
    WHERE a.shop_id = n.shop_id AND a.hold_id = n.id
      AND a.open_until IS DISTINCT FROM
          CASE WHEN n.status IN ('active', 'pending_payment') THEN n.expires_at END;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER holds_sync_allocations
AFTER UPDATE ON holds
REFERENCING NEW TABLE AS changed_holds
FOR EACH STATEMENT EXECUTE FUNCTION hold_allocations_follow_holds();

-- Allocations written without the copy (bulk loads, tests) take it from
-- their hold. The reserve statement always writes it, so for it the WHEN
-- clause is false and no function is called.
-- +goose StatementBegin
CREATE FUNCTION hold_allocations_copy_expiry() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT h.expires_at INTO NEW.open_until
    FROM holds h
    WHERE h.shop_id = NEW.shop_id AND h.id = NEW.hold_id
      AND h.status IN ('active', 'pending_payment');
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER hold_allocations_open_until
BEFORE INSERT ON hold_allocations
FOR EACH ROW WHEN (NEW.open_until IS NULL)
EXECUTE FUNCTION hold_allocations_copy_expiry();

CREATE OR REPLACE VIEW stock_levels_effective AS
SELECT s.shop_id,
       s.sku,
       s.variant_key,
       s.location_id,
       s.on_hand,
       s.reserved - coalesce((
           SELECT sum(a.quantity)
           FROM hold_allocations a
           WHERE a.shop_id = s.shop_id
             AND a.sku = s.sku
             AND a.variant_key = s.variant_key
             AND a.location_id = s.location_id
             AND a.open_until <= now()
       ), 0)::bigint AS reserved,
       s.backorder_limit,
       s.updated_at
FROM stock_levels s;

-- +goose Down
CREATE OR REPLACE VIEW stock_levels_effective AS
SELECT s.shop_id,
       s.sku,
       s.variant_key,
       s.location_id,
       s.on_hand,
       s.reserved - coalesce((
           SELECT sum(a.quantity)
           FROM holds h
           JOIN hold_allocations a ON a.shop_id = h.shop_id AND a.hold_id = h.id
           WHERE h.shop_id = s.shop_id
             AND h.status IN ('active', 'pending_payment')
             AND h.expires_at <= now()
             AND a.sku = s.sku
             AND a.variant_key = s.variant_key
             AND a.location_id = s.location_id
       ), 0)::bigint AS reserved,
       s.backorder_limit,
       s.updated_at
FROM stock_levels s;
DROP TRIGGER hold_allocations_open_until ON hold_allocations;
DROP FUNCTION hold_allocations_copy_expiry();
DROP TRIGGER holds_sync_allocations ON holds;
DROP FUNCTION hold_allocations_follow_holds();
DROP INDEX hold_allocations_open_by_line;
ALTER TABLE hold_allocations DROP COLUMN open_until;
