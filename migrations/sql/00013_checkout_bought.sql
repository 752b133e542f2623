-- What a checkout whose customer could change quantities on Stripe's page
-- was paid for. Its hold covered each adjustable line's maximum; once paid,
-- the settler reads the session's line items and records here, per line of
-- the checkout (in its order), the quantity it settled: the one bought, 0
-- for a line the customer dropped. NULL for a checkout whose quantities were
-- fixed (its lines are what was bought) or that was never paid.
--
-- review_reason is set when Stripe's line items did not account for the
-- checkout's lines (a line item of no line, a quantity the line did not
-- allow): rather than guess, the settler sold every line at its maximum,
-- what the hold covered, so nothing the customer paid for can be sold
-- twice, and someone must look at the order.

-- +goose Up
ALTER TABLE checkouts ADD COLUMN bought jsonb;
ALTER TABLE checkouts ADD COLUMN review_reason text;

-- +goose Down
ALTER TABLE checkouts DROP COLUMN review_reason;
ALTER TABLE checkouts DROP COLUMN bought;
