-- Publishes every committed stock change, so the live availability stream
-- can listen instead of polling. NOTIFY is transactional: listeners hear of
-- a change only once its transaction commits, and not at all if it rolls
-- back. Identical payloads within one transaction are delivered once.
--
-- NOTIFY is not free: every notifying transaction takes a global lock at
-- commit. A session with checkoutd.stock_notify = 'off' (STOCK_NOTIFY=0)
-- publishes nothing.

-- +goose Up
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

-- +goose Down
DROP TRIGGER stock_levels_notify ON stock_levels;
DROP FUNCTION notify_stock_changed();
