-- A hold bound to a Stripe Checkout Session keeps its stock until Stripe can
-- no longer take payment for it.
--
-- Stripe will not expire a session sooner than 30 minutes after creating it,
-- so a shorter hold lapsed while its session was still open: its stock was
-- given back before the reaper asked Stripe to close the page, and a
-- customer who paid in between was sold units someone else had since taken.
-- Now such a hold, once its expiry passes, becomes 'expiring': still open,
-- still reserved, while the reaper's job asks Stripe to expire the session.
-- Stripe's answer (or its checkout.session.expired event) closes it; should
-- Stripe not answer, the hold stops counting five minutes after the session's
-- own expiry, when Stripe has closed the page itself.
--
-- hold_open_until is the one definition of when a hold's stock stops
-- counting without the reaper: the allocations' copy (open_until, 00007) is
-- kept from it by the same triggers as before, so availability reads, which
-- only look at that copy, are unchanged. It is IMMUTABLE, truthfully: adding
-- minutes to a timestamptz does not depend on the time zone.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION hold_open_until(status text, expires_at timestamptz, session_expires_at timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN status IN ('active', 'expiring') AND session_expires_at IS NOT NULL
            THEN greatest(expires_at, session_expires_at + interval '5 minutes')
        WHEN status IN ('active', 'pending_payment', 'expiring') THEN expires_at
    END
$$;
-- +goose StatementEnd

ALTER TABLE holds DROP CONSTRAINT holds_status_valid;
ALTER TABLE holds DROP CONSTRAINT holds_closed_at_matches_status;
ALTER TABLE holds ADD CONSTRAINT holds_status_valid
    CHECK (status IN ('active', 'pending_payment', 'expiring', 'committed', 'released', 'expired'));
ALTER TABLE holds ADD CONSTRAINT holds_closed_at_matches_status
    CHECK ((status IN ('active', 'pending_payment', 'expiring')) = (closed_at IS NULL));
-- Only a hold with a session waits for Stripe.
ALTER TABLE holds ADD CONSTRAINT holds_expiring_has_session
    CHECK (status <> 'expiring' OR checkout_session_expires_at IS NOT NULL);

-- The reaper releases the expiring holds Stripe never answered for: a
-- handful at any time, so a small partial index.
CREATE INDEX holds_expiring_by_deadline
    ON holds (hold_open_until(status, expires_at, checkout_session_expires_at))
    WHERE status = 'expiring';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION hold_allocations_follow_holds() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE hold_allocations a
    SET open_until = hold_open_until(n.status, n.expires_at, n.checkout_session_expires_at)
    FROM changed_holds n
    WHERE a.shop_id = n.shop_id AND a.hold_id = n.id
      AND a.open_until IS DISTINCT FROM hold_open_until(n.status, n.expires_at, n.checkout_session_expires_at);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION hold_allocations_copy_expiry() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT hold_open_until(h.status, h.expires_at, h.checkout_session_expires_at) INTO NEW.open_until
    FROM holds h
    WHERE h.shop_id = NEW.shop_id AND h.id = NEW.hold_id;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- Holds already bound to a session keep their stock by the new rule: the
-- trigger recomputes their allocations' copies.
UPDATE holds
SET updated_at = updated_at
WHERE status = 'active' AND checkout_session_expires_at IS NOT NULL;

-- +goose Down
-- Back to the old rule: a hold waiting for Stripe is treated as lapsed.
UPDATE holds SET status = 'active' WHERE status = 'expiring';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION hold_allocations_copy_expiry() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT h.expires_at INTO NEW.open_until
    FROM holds h
    WHERE h.shop_id = NEW.shop_id AND h.id = NEW.hold_id
      AND h.status IN ('active', 'pending_payment');
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION hold_allocations_follow_holds() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE hold_allocations a
    SET open_until = CASE WHEN n.status IN ('active', 'pending_payment') THEN n.expires_at END
    FROM changed_holds n
    WHERE a.shop_id = n.shop_id AND a.hold_id = n.id
      AND a.open_until IS DISTINCT FROM
          CASE WHEN n.status IN ('active', 'pending_payment') THEN n.expires_at END;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

UPDATE holds
SET updated_at = updated_at
WHERE status = 'active' AND checkout_session_expires_at IS NOT NULL;

DROP INDEX holds_expiring_by_deadline;
ALTER TABLE holds DROP CONSTRAINT holds_expiring_has_session;
ALTER TABLE holds DROP CONSTRAINT holds_closed_at_matches_status;
ALTER TABLE holds DROP CONSTRAINT holds_status_valid;
ALTER TABLE holds ADD CONSTRAINT holds_status_valid
    CHECK (status IN ('active', 'pending_payment', 'committed', 'released', 'expired'));
ALTER TABLE holds ADD CONSTRAINT holds_closed_at_matches_status
    CHECK ((status IN ('active', 'pending_payment')) = (closed_at IS NULL));
DROP FUNCTION hold_open_until(text, timestamptz, timestamptz);
