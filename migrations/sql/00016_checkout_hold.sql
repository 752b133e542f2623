-- A checkout may adopt a hold the shop's cart placed (holdId) instead of
-- placing its own. One hold sells through one checkout: two checkouts
-- adopting the same cart's hold at once would both bind it to a Stripe
-- session, and the first session's payment would commit what the second
-- was selling. The unique index makes the second checkout's claim on the
-- hold fail, in the database, however the requests interleave.

-- +goose Up
CREATE UNIQUE INDEX checkouts_hold ON checkouts (shop_id, hold_id) WHERE hold_id IS NOT NULL;

-- +goose Down
DROP INDEX checkouts_hold;
