-- name: HoldOutcomes :many
-- How many holds were placed, committed, expired and released in each
-- bucket from since on, read from the movement ledger: a hold writes a
-- RESERVATION per allocation when placed, a SALE per allocation when
-- committed, and a RELEASE per allocation when closed otherwise, whose
-- reference is the reason. Both reasons of an expiry count as expired:
-- 'expired' (the hold's time ran out, or its Stripe session's did over
-- five minutes ago with no word from Stripe) and 'session_expired' (Stripe
-- said the session expired). Counting distinct
-- holds turns allocations into holds (hashed first: a count(DISTINCT) per
-- column sorts the lot, four times). Buckets without movements are left
-- out.
SELECT e.bucket::timestamptz AS bucket,
       count(*) FILTER (WHERE e.type = 'RESERVATION')::bigint AS placed,
       count(*) FILTER (WHERE e.type = 'SALE')::bigint AS committed,
       count(*) FILTER (WHERE e.type = 'RELEASE' AND e.expired)::bigint AS expired,
       count(*) FILTER (WHERE e.type = 'RELEASE' AND NOT e.expired)::bigint AS released
FROM (
    SELECT DISTINCT date_bin(make_interval(secs => sqlc.arg(bucket_seconds)::int), m.created_at, sqlc.arg(since)::timestamptz) AS bucket,
           m.type, m.reference IN ('expired', 'session_expired') AS expired, m.hold_id
    FROM movements m
    WHERE m.shop_id = sqlc.arg(shop_id)
      AND m.created_at >= sqlc.arg(since)::timestamptz
      AND m.hold_id IS NOT NULL
      AND m.type IN ('RESERVATION', 'SALE', 'RELEASE')
) e
GROUP BY e.bucket
ORDER BY e.bucket;
