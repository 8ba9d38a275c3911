#!/usr/bin/env bash
# Shared by bench.sh and loadtests/latency.sh (source it after scripts/pg.sh): a throwaway PostgreSQL and
# one silo on it, both stopped and removed on exit.

# bench_start_postgres <name>: starts PostgreSQL in a temporary folder, creates database <name> and exports
# ConnectionStrings__Postgres and Api__BootstrapAdminKey for the silo and the load console. Sets tmp and port.
bench_start_postgres() {
    local db="$1"
    pg_ensure_installed
    tmp="$(mktemp -d /tmp/coupongrains-bench.XXXXXX)"
    chmod 755 "$tmp"
    silo_pid=""
    trap bench_cleanup EXIT
    mkdir -p "$tmp/pg/data"
    port="$(pg_free_port)"
    # WAL sized for a write-heavy ledger, as a production server would be: with the default max_wal_size (1 GB) the
    # hot phase's WAL set off a checkpoint that ran through the spread phase measured after it (its page writes slowed
    # the WAL flushes, and every page first touched after it was logged whole), so spread paid for hot. Now no
    # checkpoint falls inside a bench; the SQL peer runs on the same server. PG_EXTRA_OPTIONS="" restores the defaults.
    # BENCH_STATEMENTS=1 loads pg_stat_statements, for scripts that report statement time (loadtests/latency.sh).
    PG_EXTRA_OPTIONS="${PG_EXTRA_OPTIONS--c max_wal_size=8GB -c checkpoint_timeout=30min}${BENCH_STATEMENTS:+ -c shared_preload_libraries=pg_stat_statements}" \
        pg_start "$tmp/pg/data" "$port"
    pg_create_db "$port" "$db"
    export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$port;Username=postgres;Database=$db;Maximum Pool Size=100"
    export Api__BootstrapAdminKey="cg_bench_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
}

# bench_start_silo: builds the solution and starts a silo on ports of its own, waiting until it is ready.
# SILO_ENV (space-separated NAME=value pairs) is given to the silo alone, not to the load console: runtime knobs
# such as SILO_ENV="DOTNET_GCgen0size=0x10000000" are tried that way.
# Sets http_port and silo_pid. Its own ports: the grain-level driver finds the gateway through this database's
# membership table, and a silo left running elsewhere on the default ports would otherwise answer it.
bench_start_silo() {
    local silo_port gateway_port
    # Quiet when it builds, the compiler's errors when it does not (a failed build had ended a run with no word of why).
    local build_log
    build_log="$(mktemp)"
    if ! dotnet build -c Release CouponGrains.sln -v q -nologo >"$build_log" 2>&1; then
        grep -E "error|rror\(s\)" "$build_log" | sort -u >&2
        rm -f "$build_log"
        echo "the build failed" >&2
        return 1
    fi
    rm -f "$build_log"
    read -r http_port silo_port gateway_port < <(pg_free_ports 3)
    # shellcheck disable=SC2086  # SILO_ENV is a list of words
    env ${SILO_ENV:-} Orleans__SiloPort=$silo_port Orleans__GatewayPort=$gateway_port Logging__LogLevel__Default=Warning \
        dotnet silo/CouponGrains.Silo/bin/Release/net10.0/CouponGrains.Silo.dll \
        --urls "http://127.0.0.1:$http_port" >"$tmp/silo.log" 2>&1 &
    silo_pid=$!
    for _ in $(seq 1 120); do
        http_ready "$http_port" /health/ready && return 0
        sleep 0.5
    done
    echo "the silo did not become ready; its log: $tmp/silo.log" >&2
    return 1
}

bench_cleanup() {
    set +e
    # A load console a script started in the background (load_pid), should the script end before it does.
    [[ -n "${load_pid:-}" ]] && kill "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
    [[ -n "${silo_pid:-}" ]] && kill "$silo_pid" 2>/dev/null && wait "$silo_pid" 2>/dev/null
    pg_stop "$tmp/pg/data"
    rm -rf "$tmp"
}

# The redemptions a second the load console reported for scenario $1 in its output file $2 (its "[name] ok … rps N" line).
bench_rps() {
    sed -n "s/^\[$1\] .* rps \([0-9]*\) .*/\1/p" "$2"
}
