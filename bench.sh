#!/usr/bin/env bash
# Side-by-side throughput: the SQL peer (one transaction per redemption, ../shared/bench/sql-peer.sh
# when present) and CouponGrains' hot and spread scenarios through the HTTP API, on one throwaway
# PostgreSQL with synchronous_commit=on. Prints the ratios; reports go to loadtests/reports/.
#
#   ./bench.sh [seconds] [concurrency] [warm-up seconds, default 20]
#
# A fresh silo spends its first minute in the JIT (perf: 27 % of its CPU 12-22 s in, 3 % 60 s in):
# a longer warm-up measures the silo as it runs for the rest of the day.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
cd "$ROOT"
# shellcheck source=scripts/pg.sh
source "$ROOT/scripts/pg.sh"
# shellcheck source=scripts/bench-env.sh
source "$ROOT/scripts/bench-env.sh"
secs="${1:-15}"
concurrency="${2:-128}"
warmup="${3:-20}"

bench_start_postgres coupongrains_bench

echo "== SQL peer (pgbench, ${secs}s, 32 clients) =="
peer_script="$ROOT/../shared/bench/sql-peer.sh"
peer_out="$(PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres bash "$peer_script" "$secs" 32)"
echo "$peer_out"
peer_hot="$(sed -n 's/^hot (1 campaign) redemptions\/s: \([0-9]*\)/\1/p' <<<"$peer_out")"
peer_spread="$(sed -n 's/^spread (1,000 campaigns) redemptions\/s: \([0-9]*\)/\1/p' <<<"$peer_out")"

bench_start_silo

echo "== CouponGrains through the HTTP API (closed model, ${concurrency} users, ${secs}s after ${warmup}s warm-up) =="
dotnet loadtests/CouponGrains.LoadTests/bin/Release/net10.0/CouponGrains.LoadTests.dll \
    --url "http://127.0.0.1:$http_port" --scenarios hot,spread --concurrency "$concurrency" --duration "$secs" --warmup "$warmup" \
    --out "$ROOT/loadtests/reports" 2>&1 | tee "$tmp/load.log" | grep -E '^\[|reports written'
ours_hot="$(bench_rps hot "$tmp/load.log")"
ours_spread="$(bench_rps spread "$tmp/load.log")"
echo "== engine headroom: the grain-level driver (Orleans client, no HTTP), hot campaign =="
dotnet loadtests/CouponGrains.LoadTests/bin/Release/net10.0/CouponGrains.LoadTests.dll \
    --url "http://127.0.0.1:$http_port" --scenarios hot --driver grain --concurrency 256 --duration "$secs" --warmup 5 \
    --out "$ROOT/loadtests/reports" 2>&1 | grep -E '^\[hot\] ok'
echo "== ratio =="
awk -v a="$ours_hot" -v b="$peer_hot" 'BEGIN { printf "hot:    %s / %s = %.2fx the SQL peer\n", a, b, a / b }'
awk -v a="$ours_spread" -v b="$peer_spread" 'BEGIN { printf "spread: %s / %s = %.2fx the SQL peer\n", a, b, a / b }'
awk -v a="$ours_spread" -v b="$ours_hot" 'BEGIN { printf "spread / hot: %s / %s = %.2fx (the target: at least 1)\n", a, b, a / b }'
