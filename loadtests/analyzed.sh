#!/usr/bin/env bash
# Spread after hot, with the ledger analyzed in between: a throwaway PostgreSQL and silo, the hot scenario (one code,
# one campaign), then ANALYZE of the ledger, then the spread scenario (1,000 campaigns) on the same silo. After hot,
# the statistics say one code and one campaign hold every redemption; the cap lookups must still probe their indexes
# for every new code and campaign (migration 0015), so spread must not fall behind hot. Before that fix this gave
# spread 116 /s after hot 4,828 /s. Prints both, the share, and the slow cap-totals reads the silo logged.
#
#   loadtests/analyzed.sh [seconds, default 15] [concurrent users, default 128]
#   Pipeline__RelayEnabled=false loadtests/analyzed.sh   # engine only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
# shellcheck source=../scripts/pg.sh
source "$ROOT/scripts/pg.sh"
# shellcheck source=../scripts/bench-env.sh
source "$ROOT/scripts/bench-env.sh"
secs="${1:-15}"
users="${2:-128}"

bench_start_postgres coupongrains_analyzed
bench_start_silo

load() {
    dotnet loadtests/CouponGrains.LoadTests/bin/Release/net10.0/CouponGrains.LoadTests.dll \
        --url "http://127.0.0.1:$http_port" --scenarios "$1" --model closed --concurrency "$users" --duration "$secs" \
        --warmup "$2" --postgres "$ConnectionStrings__Postgres" --out "$ROOT/loadtests/reports" 2>&1 | tee -a "$tmp/load.log" |
        grep -E "^\[$1\] ok"
}

echo "== hot, ANALYZE, spread: ${users} users, ${secs}s each ($([[ "${Pipeline__RelayEnabled:-true}" == false ]] && echo "engine only" || echo "full system")) =="
load hot 20
"$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d coupongrains_analyzed -X -q -At -c "ANALYZE redemptions" \
    -c "SELECT attname || ': ' || n_distinct || ' distinct, most common ' || COALESCE(most_common_freqs[1]::text, '-')
        FROM pg_stats WHERE tablename = 'redemptions' AND attname IN ('campaign_id', 'code') ORDER BY attname"
load spread 5
hot="$(bench_rps hot "$tmp/load.log")"
spread="$(bench_rps spread "$tmp/load.log")"
awk -v a="$spread" -v b="$hot" 'BEGIN { printf "spread / hot after ANALYZE: %s / %s = %.2fx\n", a, b, a / b }'
echo "slow cap-totals reads logged by the silo: $(grep -c 'Reading the totals' "$tmp/silo.log" || true)"
