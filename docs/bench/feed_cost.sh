#!/usr/bin/env bash
# Hold throughput with the stock change feed on and off, interleaved on the
# same server so that a busy machine slows both alike: for each pair, each
# shape (ceiling_hot.sql, ceiling_cold.sql) runs once with the feed on and
# once with it off (checkoutd.stock_notify=off, what STOCK_NOTIFY=0 sets).
# Prints one line per run: pair, shape, feed, tps.
#
#   usage: DATABASE_URL=postgres://... docs/bench/feed_cost.sh [pairs] [seconds] [clients]
#
# The database must be migrated (checkoutd migrate); ceiling_setup.sql
# resets the pgbench shop first.
set -euo pipefail
pairs=${1:-3}
seconds=${2:-10}
clients=${3:-32}
dir=$(dirname "$0")
psql "$DATABASE_URL" -q -f "$dir/ceiling_setup.sql" >/dev/null
for pair in $(seq "$pairs"); do
	for shape in hot cold; do
		for feed in on off; do
			opts=
			[[ $feed == off ]] && opts='-c checkoutd.stock_notify=off'
			tps=$(PGOPTIONS=$opts pgbench -n -M prepared -c "$clients" -j 2 -T "$seconds" \
				-f "$dir/ceiling_$shape.sql" "$DATABASE_URL" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
			echo "$pair $shape $feed $tps"
		done
	done
done
