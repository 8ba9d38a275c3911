#!/usr/bin/env bash
# Latency at a fixed arrival rate, as the README's "p99 at half the peak" figures are taken: a throwaway
# PostgreSQL and silo, the hot scenario in the open model (latency counts from each request's intended send
# time), and the silo's, PostgreSQL's and the load generator's CPU per redemption over 20 s of the measured run.
#
#   loadtests/latency.sh RATE [seconds, default 40] [warm-up seconds, default 30]
#   Pipeline__RelayEnabled=false loadtests/latency.sh 2260        # engine only: the event pipeline not consuming
#   LOAD_ENV="DOTNET_TieredCompilation=0" loadtests/latency.sh 2116   # runtime knobs for the load console alone (SILO_ENV: the silo)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
# shellcheck source=../scripts/pg.sh
source "$ROOT/scripts/pg.sh"
# shellcheck source=../scripts/bench-env.sh
source "$ROOT/scripts/bench-env.sh"
rate="${1:?usage: loadtests/latency.sh RATE [seconds] [warm-up seconds]}"
secs="${2:-40}"
warmup="${3:-30}"
if (( secs < 30 )); then
    echo "seconds must be at least 30: CPU is sampled over 20 s of the measured run" >&2
    exit 2
fi

bench_start_postgres coupongrains_latency
bench_start_silo

# CPU time (user + system, in clock ticks) of the processes whose /proc/<pid>/stat files are given.
ticks() { awk '{ s += $14 + $15 } END { print s + 0 }' "$@" 2>/dev/null; }
postgres_ticks() {
    local postmaster
    postmaster="$(head -n 1 "$tmp/pg/data/postmaster.pid")"
    ticks "/proc/$postmaster/stat" $(pgrep -P "$postmaster" | sed 's|.*|/proc/&/stat|')
}
# Ledger rows the silo has written, from its own counter: a count(*) of the ledger here scanned it twice inside the
# measured window (it did not move the p99 measurably, but a measurement should not load what it measures).
redemptions() {
    curl -fs "http://127.0.0.1:$http_port/metrics" | awk '/^coupongrains_ledger_rows_total/ { n += $NF } END { printf "%d\n", n }'
}

# The silo compiles its Prometheus exporter at the first scrapes, the busiest parts of it again at the next ones (the
# runtime's tiers): scraped here, before the load, and not at the two scrapes in the measured window, where that
# compilation had taken 78 and 73 ms of the silo's CPU in one traced run.
for _ in 1 2 3; do redemptions >/dev/null; sleep 1; done

echo "== hot campaign, open model at ${rate}/s, ${secs}s after ${warmup}s warm-up ($([[ "${Pipeline__RelayEnabled:-true}" == false ]] && echo "engine only" || echo "full system")) =="
# shellcheck disable=SC2086  # LOAD_ENV, like SILO_ENV, is a list of NAME=value words for the load console alone
env ${LOAD_ENV:-} dotnet loadtests/CouponGrains.LoadTests/bin/Release/net10.0/CouponGrains.LoadTests.dll \
    --url "http://127.0.0.1:$http_port" --scenarios hot --model open --rate "$rate" --duration "$secs" --warmup "$warmup" \
    --postgres "$ConnectionStrings__Postgres" --out "$ROOT/loadtests/reports" >"$tmp/load.log" 2>&1 &
load_pid=$!
sleep $(( warmup + 5 ))
hz="$(getconf CLK_TCK)"
silo0="$(ticks "/proc/$silo_pid/stat")"; pg0="$(postgres_ticks)"; load0="$(ticks "/proc/$load_pid/stat")"; n0="$(redemptions)"
sleep 20
silo1="$(ticks "/proc/$silo_pid/stat")"; pg1="$(postgres_ticks)"; load1="$(ticks "/proc/$load_pid/stat")"; n1="$(redemptions)"
console=0
wait "$load_pid" || console=$?
grep -E '^\[|reports written' "$tmp/load.log"
(( console == 0 )) || echo "the load console exited with $console (see the invariant results above)" >&2
awk -v n="$(( n1 - n0 ))" -v hz="$hz" -v s="$(( silo1 - silo0 ))" -v p="$(( pg1 - pg0 ))" -v l="$(( load1 - load0 ))" 'BEGIN {
    printf "CPU per redemption over 20 s (%d redemptions): silo %.0f us, PostgreSQL %.0f us, load generator %.0f us\n",
        n, s * 1e6 / hz / n, p * 1e6 / hz / n, l * 1e6 / hz / n }'
