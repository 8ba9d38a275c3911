#!/usr/bin/env bash
# Silo memory under sustained load: a throwaway PostgreSQL and silo, the hot scenario in the closed model for a
# while, and every 10 s the silo's RSS, the managed heap after the last collection and the event streams' cache
# blocks (taken from the pool and given back to it). A silo whose memory is bounded levels off; one that keeps
# something per redemption keeps rising.
#
#   loadtests/soak.sh [seconds, default 180] [concurrent users, default 128]
#   Pipeline__StreamCacheSeconds=1800 loadtests/soak.sh   # the streams' cache as Orleans keeps it by default
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
# shellcheck source=../scripts/pg.sh
source "$ROOT/scripts/pg.sh"
# shellcheck source=../scripts/bench-env.sh
source "$ROOT/scripts/bench-env.sh"
secs="${1:-180}"
users="${2:-128}"

bench_start_postgres coupongrains_soak
bench_start_silo

echo "== hot campaign, ${users} users for ${secs}s ($([[ "${Pipeline__RelayEnabled:-true}" == false ]] && echo "engine only" || echo "full system")) =="
dotnet loadtests/CouponGrains.LoadTests/bin/Release/net10.0/CouponGrains.LoadTests.dll \
    --url "http://127.0.0.1:$http_port" --scenarios hot --model closed --concurrency "$users" --duration "$secs" --warmup 5 \
    --postgres "$ConnectionStrings__Postgres" --out "$ROOT/loadtests/reports" >"$tmp/load.log" 2>&1 &
load_pid=$!
printf '%6s %10s %12s %18s %18s\n' "second" "RSS MiB" "heap MB" "stream blocks MB" "given back MB"
for (( t = 10; t <= secs + 5; t += 10 )); do
    sleep 10
    kill -0 "$load_pid" 2>/dev/null || break
    rss="$(awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$silo_pid/status")"
    curl -fs "http://127.0.0.1:$http_port/metrics" | awk -v t="$t" -v rss="$rss" '
        /^dotnet_gc_last_collection_heap_size_bytes/ { heap += $NF }
        /^orleans_streams_block_pool_allocated_memory_bytes/ { taken += $NF }
        /^orleans_streams_block_pool_released_memory_bytes/ { back += $NF }
        END { printf "%6d %10d %12d %18d %18d\n", t, rss, heap / 1e6, taken / 1e6, back / 1e6 }'
done
console=0
wait "$load_pid" || console=$?
grep -E '^\[hot\] ok' "$tmp/load.log" || tail -n 20 "$tmp/load.log"
exit "$console"
