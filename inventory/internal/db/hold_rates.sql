-- name: HoldOutcomes :many
-- How many holds were placed, committed, expired and released in each
-- bucket from since on, read from the movement ledger: a hold writes a
-- RESERVATION per allocation when placed, a SALE per allocation when
-- committed, and a RELEASE per allocation when closed otherwise, whose
-- reference is the reason ('expired' for an expiry). Counting distinct
-- holds turns allocations into holds. Buckets without movements are left
-- out.
SELECT date_bin(make_interval(secs => sqlc.arg(bucket_seconds)::int), m.created_at, sqlc.arg(since)::timestamptz)::timestamptz AS bucket,
       count(DISTINCT m.hold_id) FILTER (WHERE m.type = 'RESERVATION')::bigint AS placed,
       count(DISTINCT m.hold_id) FILTER (WHERE m.type = 'SALE')::bigint AS committed,
       count(DISTINCT m.hold_id) FILTER (WHERE m.type = 'RELEASE' AND m.reference = 'expired')::bigint AS expired,
       count(DISTINCT m.hold_id) FILTER (WHERE m.type = 'RELEASE' AND m.reference <> 'expired')::bigint AS released
FROM movements m
WHERE m.shop_id = sqlc.arg(shop_id)
  AND m.created_at >= sqlc.arg(since)::timestamptz
  AND m.hold_id IS NOT NULL
GROUP BY 1
ORDER BY 1;
