-- Stripe webhook events and what they settle.

-- +goose Up

-- The inbox: one row per Stripe event applied, written in the same
-- transaction as the event's effect, so a redelivery is recognised and a
-- crash before commit leaves no trace. shop_id is the event's metadata shop
-- ('' for events that name none); event ids are unique across Stripe.
CREATE TABLE stripe_events (
    shop_id           text COLLATE "C" NOT NULL,
    id                text        NOT NULL,
    type              text        NOT NULL,
    stripe_session_id text,
    api_version       text        NOT NULL DEFAULT '',
    outcome           text        NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id)
);

-- Paid orders whose stock was gone by the time the payment arrived. Kept for
-- people to resolve: never dropped silently.
CREATE TABLE oversold_orders (
    shop_id           text COLLATE "C" NOT NULL REFERENCES shops (id),
    id                text        NOT NULL,
    checkout_id       text        NOT NULL,
    stripe_session_id text        NOT NULL,
    payment_intent_id text,
    event_id          text        NOT NULL,
    lines             jsonb       NOT NULL,
    shortfall         jsonb       NOT NULL,
    refund_requested  boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, checkout_id) REFERENCES checkouts (shop_id, id)
);

CREATE UNIQUE INDEX oversold_orders_checkout ON oversold_orders (shop_id, checkout_id);
CREATE INDEX oversold_orders_recent ON oversold_orders (shop_id, created_at DESC, id DESC);

ALTER TABLE checkouts ADD COLUMN payment_intent_id text;
ALTER TABLE checkouts DROP CONSTRAINT checkouts_status_valid;
ALTER TABLE checkouts ADD CONSTRAINT checkouts_status_valid
    CHECK (status IN ('creating', 'open', 'pending_payment', 'completed', 'payment_failed', 'expired', 'oversold'));

-- +goose Down
ALTER TABLE checkouts DROP CONSTRAINT checkouts_status_valid;
ALTER TABLE checkouts ADD CONSTRAINT checkouts_status_valid CHECK (status IN ('creating', 'open', 'completed', 'expired'));
ALTER TABLE checkouts DROP COLUMN payment_intent_id;
DROP TABLE oversold_orders;
DROP TABLE stripe_events;
