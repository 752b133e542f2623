-- The stock change log replaces the per-row NOTIFY of 00006.
--
-- A NOTIFY makes its transaction take one database-wide lock at commit and
-- hold it until the commit record is flushed, so every notifying commit
-- waits for the one before it: group commit is lost, and with it 20-60% of
-- hold throughput (docs/availability.md has the measurements). Coalescing
-- per statement or per transaction does not help, because a hold already is
-- one transaction. So stock-changing transactions no longer notify: they
-- append the lines they changed to stock_changes, and each process's
-- availability feed reads the log (one query per poll interval for the
-- whole process) from where it last read.
--
-- Each row carries its transaction's id (xid8, which never wraps). A reader
-- remembers the snapshot of its previous read and takes exactly the rows of
-- transactions that snapshot did not see as finished, so a transaction that
-- commits late is read late, never skipped, and a rolled-back one never.
--
-- The table is UNLOGGED: it costs the checkout path no WAL, and it holds
-- nothing that cannot be rebuilt. A crash or a failover empties it; readers
-- notice the server restarted and re-read what their subscribers watch.
-- Rows are deleted by the readers once every reader has had a minute to
-- read them (inventory.Ledger.PruneStockChanges), so it holds about a
-- minute of changes. Nothing queues in PostgreSQL's notification queue, so
-- a slow or stuck reader can never make a commit fail.
--
-- A session with checkoutd.stock_notify = 'off' (STOCK_NOTIFY=0) logs
-- nothing, as it used to publish nothing.

-- +goose Up
DROP TRIGGER stock_levels_notify ON stock_levels;
DROP FUNCTION notify_stock_changed();

CREATE UNLOGGED TABLE stock_changes (
    shop_id     text COLLATE "C" NOT NULL,
    sku         text COLLATE "C" NOT NULL,
    variant_key text COLLATE "C" NOT NULL,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id()
);

-- Readers and pruning walk the log by transaction, across shops.
CREATE INDEX stock_changes_by_xid ON stock_changes (xid);

-- Once per statement, however many rows it changed: a hold of ten lines
-- logs ten rows in one INSERT, and the reaper's batch of a thousand holds
-- one INSERT too.
-- +goose StatementBegin
CREATE FUNCTION log_stock_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('checkoutd.stock_notify', true) = 'off' THEN
        RETURN NULL;
    END IF;
    INSERT INTO stock_changes (shop_id, sku, variant_key)
    SELECT DISTINCT c.shop_id, c.sku, c.variant_key FROM changed_rows c;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A trigger with a transition table takes one event and no column list,
-- hence one trigger per event. Updates of stock_lines change a line's safety
-- stock or low-stock threshold, and so what the storefront shows.
CREATE TRIGGER stock_levels_log_insert
AFTER INSERT ON stock_levels
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION log_stock_changes();

CREATE TRIGGER stock_levels_log_update
AFTER UPDATE ON stock_levels
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION log_stock_changes();

CREATE TRIGGER stock_lines_log_update
AFTER UPDATE ON stock_lines
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION log_stock_changes();

-- +goose Down
DROP TRIGGER stock_lines_log_update ON stock_lines;
DROP TRIGGER stock_levels_log_update ON stock_levels;
DROP TRIGGER stock_levels_log_insert ON stock_levels;
DROP FUNCTION log_stock_changes();
DROP TABLE stock_changes;

-- +goose StatementBegin
CREATE FUNCTION notify_stock_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('checkoutd.stock_notify', true) = 'off' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('checkoutd_stock', json_build_object(
        'shopId', NEW.shop_id, 'sku', NEW.sku, 'variantKey', NEW.variant_key)::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER stock_levels_notify
AFTER INSERT OR UPDATE OF on_hand, reserved ON stock_levels
FOR EACH ROW EXECUTE FUNCTION notify_stock_changed();
