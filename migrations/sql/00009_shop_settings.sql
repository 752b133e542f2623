-- A shop's settings that its API key may change.

-- +goose Up

-- Whether anyone, without a token, may read the shop's availability through
-- the public routes. Off until the shop turns it on: stock levels are the
-- shop's business until it decides to publish them.
ALTER TABLE shops ADD COLUMN public_availability boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE shops DROP COLUMN public_availability;
