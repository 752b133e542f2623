-- Purchase limits: how many units of a line one order (max_per_order) and
-- one customer within PURCHASE_LIMIT_WINDOW (max_per_customer) may hold; 0
-- is no limit.
--
-- A customer is known only by a hash of the shop's key for them
-- (sha256 of the shop id and the key), never by the key itself.
-- purchase_limit_customers has one row per (shop, customer) that has ever
-- held a limited line: a hold of a limited line locks that row before it
-- counts, so one customer's holds of limited lines run one after another,
-- on any replica, and two can never together pass a limit. The row carries
-- nothing else; it is the lock. purchase_limit_holds names the holds a
-- customer placed on limited lines, by hold, with when, for the count.

-- +goose Up
ALTER TABLE stock_lines ADD COLUMN max_per_order bigint NOT NULL DEFAULT 0;
ALTER TABLE stock_lines ADD COLUMN max_per_customer bigint NOT NULL DEFAULT 0;
ALTER TABLE stock_lines ADD CONSTRAINT stock_lines_max_per_order_nonnegative CHECK (max_per_order >= 0);
ALTER TABLE stock_lines ADD CONSTRAINT stock_lines_max_per_customer_nonnegative CHECK (max_per_customer >= 0);

CREATE TABLE purchase_limit_customers (
    shop_id       text COLLATE "C" NOT NULL REFERENCES shops (id),
    customer_hash text COLLATE "C" NOT NULL,
    locked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, customer_hash)
);

CREATE TABLE purchase_limit_holds (
    shop_id       text COLLATE "C" NOT NULL,
    hold_id       text        NOT NULL,
    customer_hash text COLLATE "C" NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, hold_id),
    FOREIGN KEY (shop_id, hold_id) REFERENCES holds (shop_id, id)
);

CREATE INDEX purchase_limit_holds_by_customer ON purchase_limit_holds (shop_id, customer_hash, created_at);

-- +goose Down
DROP TABLE purchase_limit_holds;
DROP TABLE purchase_limit_customers;
ALTER TABLE stock_lines DROP COLUMN max_per_customer;
ALTER TABLE stock_lines DROP COLUMN max_per_order;
