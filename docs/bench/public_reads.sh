#!/usr/bin/env bash
# Public availability reads against GET /healthz and POST validate, with wrk
# at the same connections, interleaved in one run so that a busy machine
# slows all alike. Starts two servers of this tree on the database: one with
# the Feed (STOCK_NOTIFY=1, answers cached and dropped by the Feed) and one
# without (STOCK_NOTIFY=0: every read goes to PostgreSQL). Budgets are off.
# Prints one line per run: round, case, requests/s.
#
#   usage: DATABASE_URL=postgres://... docs/bench/public_reads.sh [rounds] [seconds] [connections]
#
# The database must be migrated (checkoutd migrate).
set -euo pipefail
rounds=${1:-3}
seconds=${2:-10}
conns=${3:-32}
token=bench-token
shop=bench-public
bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$bin"' EXIT
go build -o "$bin/checkoutd" ./cmd/checkoutd
for port in 18181 18182; do
	notify=1
	[[ $port == 18182 ]] && notify=0
	HTTP_ADDR=127.0.0.1:$port INVENTORY_AUTHORITY_TOKEN=$token STOCK_NOTIFY=$notify LOG_LEVEL=error \
		RATE_LIMIT_PER_SHOP=0 PUBLIC_RATE_LIMIT=0 "$bin/checkoutd" serve --workers=false 2>"$bin/serve-$port.log" &
done
for port in 18181 18182; do
	for _ in $(seq 150); do
		curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && continue 2
		sleep 0.2
	done
	echo "the server on port $port did not get ready:" >&2
	cat "$bin/serve-$port.log" >&2
	exit 1
done
api=http://127.0.0.1:18181
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
curl -s "${auth[@]}" "$api/api/inventory/shops" -d "{\"id\":\"$shop\"}" >/dev/null
curl -s "${auth[@]}" -X PATCH "$api/api/inventory/shops/$shop" -d '{"publicAvailability":true}' >/dev/null
curl -s "${auth[@]}" "$api/api/inventory/shops/$shop/adjustments" -d '{"reference":"bench","changes":[
	{"sku":"TEE","variantKey":"size:S","op":"set","quantity":50},
	{"sku":"TEE","variantKey":"size:M","op":"set","quantity":3},
	{"sku":"TEE","variantKey":"size:L","op":"set","quantity":0},
	{"sku":"MUG","op":"set","quantity":500}]}' >/dev/null
cat >"$bin/validate.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"shopId":"$shop","items":[{"sku":"TEE","variantKey":"size:S","quantity":1},{"sku":"MUG","quantity":2}]}'
LUA
run() {
	wrk -t 2 -c "$conns" -d "${seconds}s" "$@" 2>/dev/null | sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p'
}
public="/api/public/shops/$shop/availability?sku=TEE&sku=MUG"
for round in $(seq "$rounds"); do
	echo "$round healthz $(run "$api/healthz")"
	echo "$round public-cached $(run "$api$public")"
	echo "$round public-uncached $(run "http://127.0.0.1:18182$public")"
	echo "$round validate $(run -s "$bin/validate.lua" "$api/api/inventory/validate")"
done
