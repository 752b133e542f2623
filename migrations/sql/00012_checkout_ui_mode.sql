-- How a checkout's Stripe page is shown: hosted (the customer goes to the
-- session's url) or embedded (the shop's page mounts it with the session's
-- client secret). The client secret is kept like the url, so that an
-- idempotent replay answers what the first request did.

-- +goose Up
ALTER TABLE checkouts ADD COLUMN ui_mode text NOT NULL DEFAULT 'hosted';
ALTER TABLE checkouts ADD COLUMN stripe_client_secret text;
ALTER TABLE checkouts ADD CONSTRAINT checkouts_ui_mode_valid CHECK (ui_mode IN ('hosted', 'embedded'));

-- +goose Down
ALTER TABLE checkouts DROP CONSTRAINT checkouts_ui_mode_valid;
ALTER TABLE checkouts DROP COLUMN stripe_client_secret;
ALTER TABLE checkouts DROP COLUMN ui_mode;
