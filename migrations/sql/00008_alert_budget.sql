-- Alerts a shop may read, and a budget on what one shop sends.

-- +goose Up

-- A delivery's last error is only its class (refused, timeout, dns, tls,
-- http_500, ...): the detail names the receiver's address, the resolver and
-- quotes the receiver's answer, which are for ops, who read them in the log.
-- The shop's key reads this column, so the constraint keeps anything else
-- out of it.
ALTER TABLE alert_deliveries RENAME COLUMN last_error TO last_error_class;
UPDATE alert_deliveries
SET last_error_class = CASE
        WHEN last_error_class ~ 'answered HTTP [1-5][0-9][0-9]'
            THEN 'http_' || substring(last_error_class FROM 'answered HTTP ([1-5][0-9][0-9])')
        WHEN last_error_class LIKE '%not configured%' OR last_error_class LIKE '%unusable URL%' THEN 'not_configured'
        WHEN last_error_class LIKE '%no such host%' OR last_error_class LIKE '%lookup %' THEN 'dns'
        WHEN last_error_class LIKE '%connection refused%' THEN 'refused'
        WHEN last_error_class ~* 'timeout|deadline exceeded' THEN 'timeout'
        WHEN last_error_class ~* 'tls|x509|certificate' THEN 'tls'
        ELSE 'error'
    END
WHERE last_error_class IS NOT NULL;
ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_error_class_valid CHECK (
    last_error_class ~ '^(refused|timeout|dns|tls|unreachable|connection_lost|invalid_response|not_configured|interrupted|error|http_[1-5][0-9][0-9])$'
);

-- Each shop's alert budget: a window opens with the shop's first alert
-- after the last window ended, and within it at most the budget's number of
-- alerts go out on their own (sent); the rest are held for the window's
-- digest (held). The row is claimed in the transaction that records the
-- alert, so replicas and restarts share one count.
CREATE TABLE alert_budgets (
    shop_id           text COLLATE "C" PRIMARY KEY REFERENCES shops (id),
    window_started_at timestamptz NOT NULL,
    sent              integer     NOT NULL,
    held              integer     NOT NULL DEFAULT 0,
    CONSTRAINT alert_budgets_counts_valid CHECK (sent >= 0 AND held >= 0)
);

-- A held alert is recorded without deliveries of its own; the digest that
-- carried it to the channels, once raised, is digest_id.
ALTER TABLE alerts
    ADD COLUMN held boolean NOT NULL DEFAULT false,
    ADD COLUMN digest_id text,
    ADD CONSTRAINT alerts_digest FOREIGN KEY (shop_id, digest_id) REFERENCES alerts (shop_id, id),
    ADD CONSTRAINT alerts_digest_of_held CHECK (digest_id IS NULL OR held),
    DROP CONSTRAINT alerts_kind_valid,
    ADD CONSTRAINT alerts_kind_valid CHECK (kind IN ('low_stock', 'oversold', 'digest'));

-- The held alerts still waiting for a digest.
CREATE INDEX alerts_awaiting_digest ON alerts (shop_id, created_at) WHERE held AND digest_id IS NULL;

-- +goose Down
DROP INDEX alerts_awaiting_digest;
UPDATE alerts SET digest_id = NULL WHERE digest_id IS NOT NULL;
DELETE FROM alert_deliveries d USING alerts a
WHERE a.shop_id = d.shop_id AND a.id = d.alert_id AND a.kind = 'digest';
DELETE FROM alerts WHERE kind = 'digest';
ALTER TABLE alerts
    DROP CONSTRAINT alerts_kind_valid,
    ADD CONSTRAINT alerts_kind_valid CHECK (kind IN ('low_stock', 'oversold')),
    DROP CONSTRAINT alerts_digest_of_held,
    DROP CONSTRAINT alerts_digest,
    DROP COLUMN digest_id,
    DROP COLUMN held;
DROP TABLE alert_budgets;
ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_error_class_valid;
ALTER TABLE alert_deliveries RENAME COLUMN last_error_class TO last_error;
