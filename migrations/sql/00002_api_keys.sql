-- Shop API keys. Only a SHA-256 of the secret is kept; the key itself is shown
-- once, when it is created. The key names its shop, so the lookup leads with
-- shop_id like every other query.

-- +goose Up
CREATE TABLE api_keys (
    shop_id     text COLLATE "C" NOT NULL REFERENCES shops (id),
    id          text        NOT NULL,
    name        text        NOT NULL DEFAULT '',
    secret_hash bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    PRIMARY KEY (shop_id, id)
);

-- +goose Down
DROP TABLE api_keys;
