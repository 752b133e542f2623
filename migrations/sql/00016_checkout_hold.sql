-- A checkout may adopt a hold the shop's cart placed (holdId) instead of
-- placing its own. One hold sells through one checkout: two checkouts
-- adopting the same cart's hold at once would both bind it to a Stripe
-- session, and the first session's payment would commit what the second
-- was selling. The unique index makes the second checkout's claim on the
-- hold fail, in the database, however the requests interleave.
--
-- Once adopted, the hold's lines are the checkout's: checkout_claimed
-- stops the cart changing them (PUT items) in the moments before Stripe
-- answers and the session is bound to the hold, when a change would leave
-- the hold holding other lines than the session sells.

-- +goose Up
CREATE UNIQUE INDEX checkouts_hold ON checkouts (shop_id, hold_id) WHERE hold_id IS NOT NULL;
ALTER TABLE holds ADD COLUMN checkout_claimed boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE holds DROP COLUMN checkout_claimed;
DROP INDEX checkouts_hold;
