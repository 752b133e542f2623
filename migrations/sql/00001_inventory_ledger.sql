-- The inventory ledger. Every table leads with shop_id (and every primary key
-- starts with it) so the data can be distributed by shop without a rewrite.
-- Key columns use the "C" collation: they compare byte by byte, as Go does,
-- so the order rows are locked in is the same in SQL and in Go whatever the
-- database's default collation.
-- The CHECK constraints are the last line of defence against overselling: even a
-- wrong query cannot leave a stock row reserving more than it may.

-- +goose Up
CREATE TABLE shops (
    id         text COLLATE "C" NOT NULL,
    name       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id),
    CONSTRAINT shops_id_format CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$')
);

-- Locations are where stock physically is. Holds take stock from locations in
-- ascending priority (then id), so allocation is deterministic.
CREATE TABLE locations (
    shop_id    text COLLATE "C" NOT NULL REFERENCES shops (id),
    id         text COLLATE "C" NOT NULL,
    name       text        NOT NULL DEFAULT '',
    priority   integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    CONSTRAINT locations_id_format CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$')
);

-- A stock line is what a shop sells: (sku, variant_key). Its settings apply to
-- the line as a whole, across locations.
CREATE TABLE stock_lines (
    shop_id             text COLLATE "C" NOT NULL REFERENCES shops (id),
    sku                 text COLLATE "C" NOT NULL,
    variant_key         text COLLATE "C" NOT NULL,
    safety_stock        bigint      NOT NULL DEFAULT 0,
    low_stock_threshold bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, sku, variant_key),
    CONSTRAINT stock_lines_sku_format CHECK (sku ~ '^[A-Za-z0-9._:/-]{1,64}$'),
    CONSTRAINT stock_lines_variant_key_length CHECK (length(variant_key) <= 128),
    CONSTRAINT stock_lines_safety_stock_nonnegative CHECK (safety_stock >= 0),
    CONSTRAINT stock_lines_low_stock_threshold_nonnegative CHECK (low_stock_threshold >= 0)
);

-- One row per line and location. Backorders are booked against the shop's
-- default location only, so a line's backorder limit is one number that one
-- row's CHECK enforces.
CREATE TABLE stock_levels (
    shop_id         text COLLATE "C" NOT NULL,
    sku             text COLLATE "C" NOT NULL,
    variant_key     text COLLATE "C" NOT NULL,
    location_id     text COLLATE "C" NOT NULL,
    on_hand         bigint      NOT NULL DEFAULT 0,
    reserved        bigint      NOT NULL DEFAULT 0,
    backorder_limit bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, sku, variant_key, location_id),
    FOREIGN KEY (shop_id, sku, variant_key) REFERENCES stock_lines (shop_id, sku, variant_key),
    FOREIGN KEY (shop_id, location_id) REFERENCES locations (shop_id, id),
    CONSTRAINT stock_levels_reserved_nonnegative CHECK (reserved >= 0),
    CONSTRAINT stock_levels_backorder_limit_nonnegative CHECK (backorder_limit >= 0),
    CONSTRAINT stock_levels_backorder_at_default CHECK (backorder_limit = 0 OR location_id = 'default'),
    CONSTRAINT stock_levels_no_oversell CHECK (on_hand - reserved >= -backorder_limit)
);

CREATE TABLE holds (
    shop_id             text COLLATE "C" NOT NULL REFERENCES shops (id),
    id                  text        NOT NULL,
    status              text        NOT NULL DEFAULT 'active',
    expires_at          timestamptz NOT NULL,
    idempotency_key     text,
    reference           text        NOT NULL DEFAULT '',
    checkout_session_id text,
    commit_reference    text,
    release_reason      text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    closed_at           timestamptz,
    PRIMARY KEY (shop_id, id),
    CONSTRAINT holds_status_valid CHECK (status IN ('active', 'pending_payment', 'committed', 'released', 'expired')),
    CONSTRAINT holds_closed_at_matches_status CHECK ((status IN ('active', 'pending_payment')) = (closed_at IS NULL))
);

CREATE UNIQUE INDEX holds_idempotency_key ON holds (shop_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX holds_checkout_session ON holds (shop_id, checkout_session_id) WHERE checkout_session_id IS NOT NULL;
-- The reaper walks open holds by expiry, and availability reads look for
-- lapsed holds the reaper has not closed yet: a handful at any time, across
-- all shops. There is deliberately no (shop_id, expires_at) index: the
-- planner would take it for lookups of one hold by id and scan every open
-- hold of a busy shop.
CREATE INDEX holds_open_by_expiry ON holds (expires_at) WHERE status IN ('active', 'pending_payment');

-- What a hold took, line by line and location by location. A hold's lines are
-- these rows grouped by (sku, variant_key).
CREATE TABLE hold_allocations (
    shop_id     text COLLATE "C" NOT NULL,
    hold_id     text   NOT NULL,
    sku         text COLLATE "C" NOT NULL,
    variant_key text COLLATE "C" NOT NULL,
    location_id text COLLATE "C" NOT NULL,
    quantity    bigint NOT NULL,
    backordered bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (shop_id, hold_id, sku, variant_key, location_id),
    FOREIGN KEY (shop_id, hold_id) REFERENCES holds (shop_id, id),
    CONSTRAINT hold_allocations_quantity_positive CHECK (quantity > 0),
    CONSTRAINT hold_allocations_backordered_range CHECK (backordered >= 0 AND backordered <= quantity)
);

-- The append-only movement ledger. quantity is the signed change to on_hand,
-- except for RESERVATION and RELEASE, where it is the signed change to
-- reserved. It has no foreign key to stock_levels on purpose: a key check would
-- take a share lock on the hottest rows in the system for every movement.
CREATE TABLE movements (
    shop_id     text COLLATE "C" NOT NULL,
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    sku         text COLLATE "C" NOT NULL,
    variant_key text COLLATE "C" NOT NULL,
    location_id text COLLATE "C" NOT NULL,
    type        text        NOT NULL,
    quantity    bigint      NOT NULL,
    reference   text        NOT NULL DEFAULT '',
    notes       text        NOT NULL DEFAULT '',
    created_by  text        NOT NULL DEFAULT '',
    hold_id     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    CONSTRAINT movements_type_valid CHECK (type IN ('PURCHASE_ORDER', 'SALE', 'RETURN', 'ADJUSTMENT', 'RESERVATION', 'RELEASE', 'DAMAGE', 'TRANSFER'))
);

CREATE INDEX movements_line ON movements (shop_id, sku, variant_key, id DESC);

-- stock_levels as availability sees it: a hold whose expires_at has passed
-- stops counting as reserved at once, even before the reaper closes it. Only
-- open holds are looked at, through a small partial index, so this stays cheap.
CREATE VIEW stock_levels_effective AS
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

-- Remembers the response to an idempotent stock change so a replay returns it.
CREATE TABLE idempotency_keys (
    shop_id      text COLLATE "C" NOT NULL REFERENCES shops (id),
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, scope, key)
);

-- +goose Down
DROP VIEW stock_levels_effective;
DROP TABLE idempotency_keys;
DROP TABLE movements;
DROP TABLE hold_allocations;
DROP TABLE holds;
DROP TABLE stock_levels;
DROP TABLE stock_lines;
DROP TABLE locations;
DROP TABLE shops;
