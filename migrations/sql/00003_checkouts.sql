-- Checkout sessions created through checkoutd. Every session gets a record,
-- in every inventory mode, so the webhooks know what was sold without
-- trusting the event's payload: in validate_only mode there is no hold, yet a
-- paid session must still take its lines off on_hand.

-- +goose Up
CREATE TABLE checkouts (
    shop_id            text COLLATE "C" NOT NULL REFERENCES shops (id),
    id                 text        NOT NULL,
    mode               text        NOT NULL,
    inventory_mode     text        NOT NULL,
    idempotency_key    text,
    request_hash       bytea       NOT NULL,
    lines              jsonb       NOT NULL,
    hold_id            text,
    stripe_session_id  text,
    stripe_url         text,
    expires_at         timestamptz,
    status             text        NOT NULL DEFAULT 'creating',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, hold_id) REFERENCES holds (shop_id, id),
    CONSTRAINT checkouts_mode_valid CHECK (mode IN ('sale', 'rental')),
    CONSTRAINT checkouts_inventory_mode_valid CHECK (inventory_mode IN ('validate_only', 'reserve_ttl', 'bypass')),
    CONSTRAINT checkouts_status_valid CHECK (status IN ('creating', 'open', 'completed', 'expired')),
    CONSTRAINT checkouts_open_has_session CHECK (status = 'creating' OR stripe_session_id IS NOT NULL)
);

CREATE UNIQUE INDEX checkouts_idempotency_key ON checkouts (shop_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX checkouts_stripe_session ON checkouts (shop_id, stripe_session_id) WHERE stripe_session_id IS NOT NULL;

-- The mode a hold was placed for (sale or rental), and when the Stripe
-- session paying for it expires: later than the hold when the hold is shorter
-- than Stripe's 30-minute minimum, in which case the reaper expires the
-- session once the hold lapses.
ALTER TABLE holds ADD COLUMN checkout_mode text;
ALTER TABLE holds ADD COLUMN checkout_session_expires_at timestamptz;

-- +goose Down
ALTER TABLE holds DROP COLUMN checkout_session_expires_at;
ALTER TABLE holds DROP COLUMN checkout_mode;
DROP TABLE checkouts;
