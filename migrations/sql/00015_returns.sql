-- Returns, refunds and rentals: what comes back after a sale.
--
-- A return belongs to a committed hold. hold_returns keeps, per line and
-- location of the hold, what its commit sold and how much has come back over
-- all its returns; its CHECK is the last word on "never more back than was
-- sold", whatever the statements' own arithmetic, and returns of one hold
-- lock the hold row first so they are judged one after another.

-- +goose Up
CREATE TABLE returns (
    shop_id         text COLLATE "C" NOT NULL,
    id              text        NOT NULL,
    hold_id         text        NOT NULL,
    restock         boolean     NOT NULL,
    reason          text        NOT NULL DEFAULT '',
    idempotency_key text,
    -- What the request asked, so a replay of its key with another request
    -- is told apart from a retry.
    request_hash    bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, hold_id) REFERENCES holds (shop_id, id)
);

CREATE UNIQUE INDEX returns_idempotency_key ON returns (shop_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX returns_by_hold ON returns (shop_id, hold_id, created_at, id);

-- A return's lines, each at the location its units came back to.
CREATE TABLE return_items (
    shop_id     text COLLATE "C" NOT NULL,
    return_id   text   NOT NULL,
    position    int    NOT NULL,
    sku         text COLLATE "C" NOT NULL,
    variant_key text COLLATE "C" NOT NULL,
    location_id text COLLATE "C" NOT NULL,
    quantity    bigint NOT NULL,
    PRIMARY KEY (shop_id, return_id, position),
    FOREIGN KEY (shop_id, return_id) REFERENCES returns (shop_id, id),
    CONSTRAINT return_items_quantity_positive CHECK (quantity > 0)
);

CREATE TABLE hold_returns (
    shop_id     text COLLATE "C" NOT NULL,
    hold_id     text   NOT NULL,
    sku         text COLLATE "C" NOT NULL,
    variant_key text COLLATE "C" NOT NULL,
    location_id text COLLATE "C" NOT NULL,
    sold        bigint NOT NULL,
    returned    bigint NOT NULL,
    PRIMARY KEY (shop_id, hold_id, sku, variant_key, location_id),
    FOREIGN KEY (shop_id, hold_id) REFERENCES holds (shop_id, id),
    CONSTRAINT hold_returns_within_sale CHECK (returned >= 0 AND returned <= sold)
);

-- Whether a full Stripe refund of a paid checkout returns its units to
-- stock. Off until the shop turns it on: a refund is not always a return.
ALTER TABLE shops ADD COLUMN restock_on_refund boolean NOT NULL DEFAULT false;

-- When a rental's units are due back; NULL for anything but a rental.
ALTER TABLE holds ADD COLUMN rental_due_at timestamptz;
-- The rentals list reads a shop's rentals, newest first: a few among many
-- holds, so a partial index.
CREATE INDEX holds_rentals ON holds (shop_id, created_at DESC, id DESC) WHERE rental_due_at IS NOT NULL;

-- What Stripe has refunded of a checkout's payment (charge.refunded), in
-- the currency's minor units; refunded once the charge is refunded in full.
ALTER TABLE checkouts ADD COLUMN amount_refunded bigint NOT NULL DEFAULT 0;
ALTER TABLE checkouts ADD COLUMN refunded boolean NOT NULL DEFAULT false;
ALTER TABLE checkouts ADD COLUMN refunded_at timestamptz;
ALTER TABLE checkouts ADD CONSTRAINT checkouts_amount_refunded_nonnegative CHECK (amount_refunded >= 0);
-- charge.refunded names the payment, not the session: the checkout is
-- found by its payment intent, which settling the paid session stored.
CREATE INDEX checkouts_payment_intent ON checkouts (shop_id, payment_intent_id) WHERE payment_intent_id IS NOT NULL;

-- +goose Down
DROP INDEX checkouts_payment_intent;
ALTER TABLE checkouts DROP CONSTRAINT checkouts_amount_refunded_nonnegative;
ALTER TABLE checkouts DROP COLUMN refunded_at;
ALTER TABLE checkouts DROP COLUMN refunded;
ALTER TABLE checkouts DROP COLUMN amount_refunded;
DROP INDEX holds_rentals;
ALTER TABLE holds DROP COLUMN rental_due_at;
ALTER TABLE shops DROP COLUMN restock_on_refund;
DROP TABLE hold_returns;
DROP TABLE return_items;
DROP TABLE returns;
