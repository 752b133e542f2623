-- Low-stock and oversold alerts.

-- +goose Up

-- Lines that may have run low, written by the change that lowered them in
-- its own transaction (an outbox), and drained by the low-stock check job.
-- One row per line however many changes touch it before the next check, so
-- a flash sale asks for one check, not thousands.
CREATE TABLE stock_checks (
    shop_id      text COLLATE "C" NOT NULL,
    sku          text COLLATE "C" NOT NULL,
    variant_key  text COLLATE "C" NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, sku, variant_key)
);

-- When a low-stock alert last went out for the line: the debounce.
ALTER TABLE stock_lines ADD COLUMN low_stock_alerted_at timestamptz;

CREATE TABLE alerts (
    shop_id     text COLLATE "C" NOT NULL REFERENCES shops (id),
    id          text        NOT NULL,
    kind        text        NOT NULL,
    sku         text COLLATE "C",
    variant_key text COLLATE "C",
    available   bigint,
    threshold   bigint,
    oversold_id text,
    message     text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    CONSTRAINT alerts_kind_valid CHECK (kind IN ('low_stock', 'oversold'))
);

CREATE INDEX alerts_recent ON alerts (shop_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX alerts_oversold ON alerts (shop_id, oversold_id) WHERE oversold_id IS NOT NULL;

-- One row per alert and channel (slack, webhook): each delivery is its own
-- job, retried on its own.
CREATE TABLE alert_deliveries (
    shop_id      text COLLATE "C" NOT NULL,
    alert_id     text        NOT NULL,
    channel      text        NOT NULL,
    status       text        NOT NULL DEFAULT 'pending',
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    delivered_at timestamptz,
    PRIMARY KEY (shop_id, alert_id, channel),
    FOREIGN KEY (shop_id, alert_id) REFERENCES alerts (shop_id, id),
    CONSTRAINT alert_deliveries_channel_valid CHECK (channel IN ('slack', 'webhook')),
    CONSTRAINT alert_deliveries_status_valid CHECK (status IN ('pending', 'delivered', 'failed'))
);

-- +goose Down
DROP TABLE alert_deliveries;
DROP TABLE alerts;
ALTER TABLE stock_lines DROP COLUMN low_stock_alerted_at;
DROP TABLE stock_checks;
