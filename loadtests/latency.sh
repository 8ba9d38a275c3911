#!/usr/bin/env bash
# Latency at a fixed arrival rate, as the README's "p99 at half the peak" figures are taken: a throwaway
# PostgreSQL and silo, the hot scenario in the open model (latency counts from each request's intended send
# time), and the silo's, PostgreSQL's and the load generator's CPU and context switches per redemption over about 20 s
# of the measured run (the script prints the window's length), how long their threads waited for a core and how busy
# the machine was, the silo's allocations and GC pauses in it, and the
# redemption path's stages in it (p50, p90 and p99 of the HTTP answer, the holds, the wait for the ledger, its batches,
# and the thread pool's queue).
#
#   loadtests/latency.sh RATE [seconds, default 40] [warm-up seconds, default 30]
#   Pipeline__RelayEnabled=false loadtests/latency.sh 2260        # engine only: the event pipeline not consuming
#   LOAD_ENV="DOTNET_TieredCompilation=0" loadtests/latency.sh 2116   # runtime knobs for the load console alone (SILO_ENV: the silo)
#   STATEMENTS=15 loadtests/latency.sh 2116   # also PostgreSQL's 15 costliest statements and its WAL in the same window
#   THREADS=1 loadtests/latency.sh 937        # also the silo's threads, by name: their switches and CPU in the window
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
statements="${STATEMENTS:-}"
if [[ -n "$statements" ]]; then
    [[ "$statements" =~ ^[1-9][0-9]*$ ]] || { echo "STATEMENTS must be a count of statements" >&2; exit 2; }
    export BENCH_STATEMENTS=1
fi
if (( secs < 30 )); then
    echo "seconds must be at least 30: CPU is sampled over 20 s of the measured run" >&2
    exit 2
fi

bench_start_postgres coupongrains_latency
bench_start_silo
sql() { "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d coupongrains_latency -X -qAt -v ON_ERROR_STOP=1 "$@"; }
[[ -n "$statements" ]] && sql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"

# CPU time (user + system, in clock ticks) of the given processes. A PostgreSQL process can end between being listed
# and being read (an autovacuum worker, say): what is gone is left out, here and in switches, rather than failing the
# script.
ticks() {
    local pid files=()
    for pid in "$@"; do files+=(/proc/"$pid"/stat); done
    { cat "${files[@]}" 2>/dev/null || true; } | awk '{ s += $14 + $15 } END { print s + 0 }'
}
postgres_pids() {
    local postmaster
    postmaster="$(head -n 1 "$tmp/pg/data/postmaster.pid")"
    echo "$postmaster" $(pgrep -P "$postmaster")
}
# Context switches (voluntary and not) of every thread of the given processes: on a virtual machine each one goes
# through the hypervisor, which can cost as much CPU as the work that caused it.
switches() {
    local pid files=()
    for pid in "$@"; do files+=(/proc/"$pid"/task/*/status); done
    { cat "${files[@]}" 2>/dev/null || true; } | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'
}
# Nanoseconds each thread of the given processes spent runnable but waiting for a core (schedstat's second field), one
# "tid ns" line per thread: on a machine as busy as this one, the time a wake-up waits before it runs, which every hop of
# a request pays. waited FILE0 FILE1 sums the growth of the threads in the second file (one started since counts from zero).
waits() {
    local pid files=()
    for pid in "$@"; do files+=(/proc/"$pid"/task/*/schedstat); done
    # A thread that ends between listing and reading is left out (awk reports the file it cannot open and goes on).
    awk '{ split(FILENAME, path, "/"); print path[5], $2 }' "${files[@]}" 2>/dev/null || true
}
waited() {
    awk 'NR == FNR { w0[$1] = $2; next } { s += $2 - w0[$1] } END { printf "%.0f\n", s }' "$1" "$2"
}
# The machine's CPU time from /proc/stat, in clock ticks: busy (all but idle and I/O wait), then all, then stolen by the host.
machine() {
    awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; printf "%.0f %.0f %.0f\n", t - $5 - $6, t, $9 }' /proc/stat
}
# The silo's threads, one line each: id, name (spaces made underscores), context switches, nanoseconds on a core (from
# schedstat, which, unlike stat, has no name in it to split). A thread that ends between listing and reading is left out.
threads() {
    local t
    for t in /proc/"$silo_pid"/task/*; do
        { cat "$t/status" "$t/schedstat" 2>/dev/null || true; } | awk -v tid="${t##*/}" '
            /^Name:/ { sub(/^Name:[ \t]*/, ""); gsub(/ /, "_"); name = $0 }
            /ctxt_switches/ { s += $2 }
            NF == 3 && $1 ~ /^[0-9]+$/ { ns = $1 }
            END { if (name != "") print tid, name, s + 0, ns + 0 }'
    done
}
# Ledger rows the silo has written, from its own counter: a count(*) of the ledger here scanned it twice inside the
# measured window (it did not move the p99 measurably, but a measurement should not load what it measures).
redemptions() {
    counters | cut -d ' ' -f 1
}
# From the same scrape: ledger rows, the silo's bytes allocated, its GC pause seconds, and its gen0, gen1 and gen2
# collections (the runtime's own meter). Given a file, the scrape is kept there too (for stages, below).
counters() {
    curl -fs --retry 3 --retry-all-errors --max-time 10 "http://127.0.0.1:$http_port/metrics" | tee "${1:-/dev/null}" | awk '
        /^coupongrains_ledger_rows_total/ { n += $NF }
        /^dotnet_gc_heap_total_allocated_bytes_total/ { a = $NF }
        /^dotnet_gc_pause_time_seconds_total/ { p = $NF }
        /^dotnet_gc_collections_total.*"gen0"/ { g0 = $NF }
        /^dotnet_gc_collections_total.*"gen1"/ { g1 = $NF }
        /^dotnet_gc_collections_total.*"gen2"/ { g2 = $NF }
        END { printf "%d %.0f %.6f %d %d %d\n", n, a, p, g0, g1, g2 }'
}

# The redemption path's stages over the window, from the histograms of two scrapes: the HTTP server's duration of the
# 201s of POST /redemptions, the grains' holds, the wait for the ledger and the ledger's batches; and the wait of the
# silo's thread pool probes, which a request that has arrived also has before Kestrel parses it. Quantiles are
# interpolated within the buckets, as Prometheus' histogram_quantile does.
stages() {
    awk '
        FNR == 1 { file++ }
        /_bucket\{/ {
            if ($0 ~ /^http_server_request_duration_seconds_bucket/ && !($0 ~ /http_route="\/api\/v1\/redemptions"/ && $0 ~ /http_response_status_code="201"/)) next
            if ($0 !~ /^(http_server_request_duration|coupongrains_redemption_holds_duration|coupongrains_ledger_append_duration|coupongrains_ledger_batch_duration|coupongrains_threadpool_queue_duration)_seconds_bucket/) next
            name = $0; sub(/_seconds_bucket.*/, "", name)
            le = $0; sub(/.*le="/, "", le); sub(/".*/, "", le)
            count[name " " le] += (file == 1 ? -1 : 1) * $NF
        }
        END { for (k in count) print k, count[k] }' "$1" "$2" | sort -k1,1 -k2,2g | awk '
        function report(   i, q, want, lo, below, label) {
            if (name == "" || total <= 0) return
            label = name; sub(/_duration$/, "", label); gsub(/_/, ".", label)
            line = sprintf("  %-32s %7d", label, total)
            split("0.5 0.9 0.99", qs, " ")
            for (q = 1; q <= 3; q++) {
                want = qs[q] * total; lo = 0; below = 0
                for (i = 1; i <= n; i++) {
                    if (c[i] >= want) break
                    lo = ub[i]; below = c[i]
                }
                if (i > n || ub[i] == "+Inf") v = lo
                else v = lo + (ub[i] - lo) * (c[i] > below ? (want - below) / (c[i] - below) : 1)
                line = line sprintf(" %8.1f", v * 1000)
            }
            print line
        }
        BEGIN { print "The redemption path in the same window (count, then p50, p90 and p99 in ms, from the silo'"'"'s histograms):" }
        $1 != name { report(); name = $1; n = 0; total = 0 }
        { n++; ub[n] = $2; c[n] = $3; if ($2 == "+Inf") total = $3 }
        END { report() }'
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
[[ -n "$statements" ]] && sql -c "SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')" >/dev/null
# Each end of the window: the ledger counter first (a scrape can take a second under load), then the CPU and context
# switch counts at once, so that both windows are shifted alike.
read -r n0 alloc0 pause0 gen00 gen10 gen20 < <(counters "$tmp/metrics0"); t0="$(date +%s%N)"
silo0="$(ticks "$silo_pid")"; pg0="$(ticks $(postgres_pids))"; load0="$(ticks "$load_pid")"
silo_cs0="$(switches "$silo_pid")"; pg_cs0="$(switches $(postgres_pids))"; load_cs0="$(switches "$load_pid")"
waits "$silo_pid" >"$tmp/waits0.silo"; waits $(postgres_pids) >"$tmp/waits0.pg"; waits "$load_pid" >"$tmp/waits0.load"
read -r busy0 all0 steal0 < <(machine)
[[ -n "${THREADS:-}" ]] && threads >"$tmp/threads0"
sleep 20
read -r n1 alloc1 pause1 gen01 gen11 gen21 < <(counters "$tmp/metrics1"); t1="$(date +%s%N)"
silo1="$(ticks "$silo_pid")"; pg1="$(ticks $(postgres_pids))"; load1="$(ticks "$load_pid")"
silo_cs1="$(switches "$silo_pid")"; pg_cs1="$(switches $(postgres_pids))"; load_cs1="$(switches "$load_pid")"
waits "$silo_pid" >"$tmp/waits1.silo"; waits $(postgres_pids) >"$tmp/waits1.pg"; waits "$load_pid" >"$tmp/waits1.load"
read -r busy1 all1 steal1 < <(machine)
[[ -n "${THREADS:-}" ]] && threads >"$tmp/threads1"
if [[ -n "$statements" ]]; then
    # Read at once, the load still running: what the statements cost in the same window as the CPU above.
    sql -F $'\t' -c "SELECT round(total_exec_time::numeric, 1), calls, rows, regexp_replace(query, '\s+', ' ', 'g')
                       FROM pg_stat_statements ORDER BY total_exec_time DESC" >"$tmp/statements.tsv"
    sql -F $'\t' -c "SELECT wal_records, wal_fpi, wal_bytes, wal_sync, round(wal_sync_time::numeric, 1) FROM pg_stat_wal" >"$tmp/wal.tsv"
fi
console=0
wait "$load_pid" || console=$?
grep -E '^\[|reports written' "$tmp/load.log"
(( console == 0 )) || echo "the load console exited with $console (see the invariant results above)" >&2
awk -v w="$(( (t1 - t0) / 1000000 ))e-3" -v n="$(( n1 - n0 ))" -v hz="$hz" -v s="$(( silo1 - silo0 ))" -v p="$(( pg1 - pg0 ))" -v l="$(( load1 - load0 ))" 'BEGIN {
    printf "CPU per redemption over %.1f s (%d redemptions): silo %.0f us, PostgreSQL %.0f us, load generator %.0f us\n",
        w, n, s * 1e6 / hz / n, p * 1e6 / hz / n, l * 1e6 / hz / n }'
awk -v n="$(( n1 - n0 ))" -v s="$(( silo_cs1 - silo_cs0 ))" -v p="$(( pg_cs1 - pg_cs0 ))" -v l="$(( load_cs1 - load_cs0 ))" 'BEGIN {
    printf "Context switches per redemption in the same window: silo %.1f, PostgreSQL %.1f, load generator %.1f\n", s / n, p / n, l / n }'
awk -v n="$(( n1 - n0 ))" -v s="$(waited "$tmp/waits0.silo" "$tmp/waits1.silo")" -v p="$(waited "$tmp/waits0.pg" "$tmp/waits1.pg")" \
    -v l="$(waited "$tmp/waits0.load" "$tmp/waits1.load")" \
    -v b="$(( busy1 - busy0 ))" -v a="$(( all1 - all0 ))" -v st="$(( steal1 - steal0 ))" 'BEGIN {
    printf "Waiting for a core in the same window (threads runnable, not running; summed over threads) per redemption: silo %.0f us, PostgreSQL %.0f us, load generator %.0f us; the machine %.0f %% busy, %.1f %% stolen by its host\n",
        s / 1000 / n, p / 1000 / n, l / 1000 / n, a ? 100 * b / a : 0, a ? 100 * st / a : 0 }'
awk -v n="$(( n1 - n0 ))" -v a="$(( alloc1 - alloc0 ))" -v p0="$pause0" -v p1="$pause1" \
    -v g0="$(( gen01 - gen00 ))" -v g1="$(( gen11 - gen10 ))" -v g2="$(( gen21 - gen20 ))" 'BEGIN {
    printf "The silo'"'"'s garbage in the same window: %.1f KB allocated per redemption; %d gen0, %d gen1 and %d gen2 collections, pausing %.0f ms in all\n",
        a / 1024 / n, g0, g1, g2, (p1 - p0) * 1000 }'
stages "$tmp/metrics0" "$tmp/metrics1"
if [[ -n "${THREADS:-}" ]]; then
    # Threads of one name summed (a thread started inside the window counts from zero), the most switching first.
    awk -v n="$(( n1 - n0 ))" '
        NR == FNR { s0[$1] = $3; ns0[$1] = $4; next }
        { s[$2] += $3 - s0[$1]; ns[$2] += $4 - ns0[$1]; count[$2]++ }
        END {
            print "The silo'"'"'s threads in the same window, by name (context switches and CPU us per redemption, then how many threads):"
            for (name in s) printf "%8.2f %8.1f  %3d  %s\n", s[name] / n, ns[name] / 1000 / n, count[name], name | "sort -rn"
        }' "$tmp/threads0" "$tmp/threads1"
fi
if [[ -n "$statements" ]]; then
    # Per redemption: statement time (µs), calls and rows; the query's text cut to 110 characters.
    awk -F '\t' -v n="$(( n1 - n0 ))" -v top="$statements" '
        { total += $1; if (NR <= top) line[NR] = sprintf("%8.1f %6.2f %6.2f  %s", $1 * 1000 / n, $2 / n, $3 / n, substr($4, 1, 110)) }
        END {
            printf "PostgreSQL statement time in the same window (from just before it to just after): %.0f us per redemption; the %d costliest (us, calls and rows per redemption):\n", total * 1000 / n, top
            for (i = 1; i <= top && i in line; i++) print line[i]
        }' "$tmp/statements.tsv"
    awk -F '\t' -v n="$(( n1 - n0 ))" '{
        printf "WAL per redemption: %.1f records, %.0f bytes, %.3f full-page images; %d flushes, %.2f ms each\n",
            $1 / n, $3 / n, $2 / n, $4, $4 ? $5 / $4 : 0 }' "$tmp/wal.tsv"
fi
