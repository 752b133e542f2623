#!/usr/bin/env bash
# Where the CPU of one operation goes: runs `checkoutd load` against a fresh
# `checkoutd serve` and prints, per lifecycle, the CPU time the server and
# the PostgreSQL server processes spent (user + system, from /proc), next
# to the throughput. What is left of the machine's cores went to the load
# client and the kernel. One line per binary given, so a before/after pair
# runs back to back on the same machine and database server.
#
#   usage: DATABASE_URL=postgres://... docs/bench/cpu_per_op.sh mode skus clients bin [bin...]
#
# mode is `checkoutd load --mode` (hold, hold-commit, validate, stock);
# skus is 1 for one hot SKU, or many for cold ones. Each binary gets a
# database of its own on DATABASE_URL's server (checkoutd_cpu, dropped and
# created again), stocked and warmed with 5,000 holds, then analyzed, as
# scripts/bench-ceiling does. PostgreSQL must run on this machine, as
# user postgres, for its processes to be counted.
set -euo pipefail
mode=$1 skus=$2 clients=$3
shift 3
seconds=${CPU_SECONDS:-8}
db=$(sed -E 's#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/checkoutd_cpu#' <<<"$DATABASE_URL")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
	local t=0 p
	for p in $(pgrep -u postgres postgres); do t=$((t + $(ticks "$p"))); done
	echo "$t"
}

for bin in "$@"; do
	PGOPTIONS="-c client_min_messages=warning" psql -q "$DATABASE_URL" -c 'DROP DATABASE IF EXISTS checkoutd_cpu' -c 'CREATE DATABASE checkoutd_cpu' >/dev/null
	DATABASE_URL=$db "$bin" migrate >/dev/null 2>&1
	DATABASE_URL=$db "$bin" shops create bench >/dev/null 2>&1
	DATABASE_URL=$db HTTP_ADDR=127.0.0.1:$port INVENTORY_AUTHORITY_TOKEN=cpu RATE_LIMIT_PER_SHOP=0 LOG_LEVEL=warn \
		"$bin" serve --workers=false >/dev/null 2>&1 &
	server=$!
	for _ in $(seq 100); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
	load() { "$bin" load --url "$url" --token cpu --shop bench --skus "$skus" "$@"; }
	load --setup --requests 1 --clients 1 --mode validate >/dev/null
	load --requests 5000 --clients 8 --mode hold >/dev/null
	psql -q "$db" -c 'VACUUM ANALYZE' >/dev/null

	s0=$(ticks "$server") p0=$(pg_ticks)
	out=$(load --clients "$clients" --duration "${seconds}s" --mode "$mode")
	s1=$(ticks "$server") p1=$(pg_ticks)
	kill "$server"
	wait "$server" 2>/dev/null || true
	awk -v bin="$bin" -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v hz="$hz" '
		/^lifecycles:/ { n = $2; rate = $3; gsub(/[(\/s);]/, "", rate) }
		END { printf "%s: %s %s/s; per lifecycle: server %.0f us, postgres %.0f us\n", bin, n, rate, s / hz / n * 1e6, p / hz / n * 1e6 }' <<<"$out"
done
psql -q "$DATABASE_URL" -c 'DROP DATABASE IF EXISTS checkoutd_cpu' >/dev/null
