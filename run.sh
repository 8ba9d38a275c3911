#!/usr/bin/env bash
# Run the CouponGrains silo locally.
#
#   ./run.sh [--demo] [--urls URL] [other args passed to the silo]
#   ./run.sh --silos 3 --api-hosts 2 [--demo]     # a local cluster: N silos, M API hosts
#
# Without ConnectionStrings__Postgres in the environment, a private PostgreSQL is
# started with its data in ./.pgdata/data (kept across runs; port $PGPORT or 5433)
# and stopped again when the silo exits. A bootstrap admin key is generated once
# into ./.pgdata/admin-key unless Api__BootstrapAdminKey is set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
cd "$ROOT"

# shellcheck source=scripts/pg.sh
source "$ROOT/scripts/pg.sh"

usage() {
    cat <<'EOF'
Usage: ./run.sh [--demo] [--urls URL] [other args passed to the silo]

  --demo        seed demo data (passed to the silo)
  --urls URL    HTTP listen URLs (default http://127.0.0.1:8080)
  --silos N     start N silos in one cluster (default 1). Silo i (0-based) serves HTTP on
                port P+i (P = the --urls port, default 8080), silo-to-silo on 11111+i and
                the client gateway on 30000+i, all on 127.0.0.1
  --api-hosts M start M API hosts (client/, Orleans clients through the gateways) on
                HTTP ports P+1000+j (default 9080, 9081, ...)

Environment:
  ConnectionStrings__Postgres  use this database instead of the private ./.pgdata server
  PGPORT                       port for the private server (default 5433)
  Api__BootstrapAdminKey       admin key to use instead of ./.pgdata/admin-key
EOF
}

urls="http://127.0.0.1:8080"
silos=1
api_hosts=0
demo=()
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --demo)
            demo=(--demo)
            shift
            ;;
        --urls)
            if [[ $# -lt 2 ]]; then
                echo "run.sh: --urls needs a value" >&2
                exit 2
            fi
            urls="$2"
            shift 2
            ;;
        --urls=*)
            urls="${1#--urls=}"
            shift
            ;;
        --silos | --api-hosts)
            if [[ $# -lt 2 || ! "$2" =~ ^[0-9]+$ ]]; then
                echo "run.sh: $1 needs a number" >&2
                exit 2
            fi
            if [[ "$1" == "--silos" ]]; then silos="$2"; else api_hosts="$2"; fi
            shift 2
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            extra+=("$1")
            shift
            ;;
    esac
done

PGDATA_ROOT="$ROOT/.pgdata"
PG_DATADIR="$PGDATA_ROOT/data"
started_pg=0
silo_pid=""
cluster_pids=()

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    local rc=$?
    set +e
    if [[ -n "$silo_pid" ]] && kill -0 "$silo_pid" 2>/dev/null; then
        kill -TERM "$silo_pid" 2>/dev/null
        wait "$silo_pid" 2>/dev/null
    fi
    local pid
    for pid in "${cluster_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${cluster_pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
    if [[ "$started_pg" -eq 1 ]]; then
        pg_stop "$PG_DATADIR"
    fi
    exit "$rc"
}
trap cleanup EXIT

mkdir -p "$PGDATA_ROOT"

if [[ -n "${ConnectionStrings__Postgres:-}" ]]; then
    echo "Using ConnectionStrings__Postgres from the environment."
else
    pg_ensure_installed
    port="${PGPORT:-5433}"
    if running_port="$(pg_running_port "$PG_DATADIR")" && [[ -n "$running_port" ]]; then
        # Already running (e.g. another ./run.sh): reuse it, and leave it running.
        echo "PostgreSQL for $PG_DATADIR is already running on port $running_port; reusing it."
        port="$running_port"
    else
        if ! pg_start "$PG_DATADIR" "$port"; then
            echo "run.sh: could not start PostgreSQL on port $port (see $PGDATA_ROOT/postgres.log);" \
                "set PGPORT to another port or set ConnectionStrings__Postgres." >&2
            exit 1
        fi
        started_pg=1
    fi
    pg_create_db "$port" coupongrains
    export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$port;Username=postgres;Database=coupongrains"
fi

if [[ -z "${Api__BootstrapAdminKey:-}" ]]; then
    keyfile="$PGDATA_ROOT/admin-key"
    if [[ ! -s "$keyfile" ]]; then
        (
            umask 077
            printf 'cg_%s\n' "$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')" >"$keyfile"
        )
    fi
    chmod 600 "$keyfile"
    Api__BootstrapAdminKey="$(tr -d ' \r\n' <"$keyfile")"
    if [[ ! "$Api__BootstrapAdminKey" =~ ^cg_[0-9a-f]{40}$ ]]; then
        echo "run.sh: $keyfile does not hold a valid key (cg_ + 40 hex chars); delete it to regenerate." >&2
        exit 1
    fi
    export Api__BootstrapAdminKey
fi

echo "Bootstrap admin key: $Api__BootstrapAdminKey"
stop_note="the silo"
if [[ "$started_pg" -eq 1 ]]; then
    stop_note="the silo and PostgreSQL"
fi
echo "Hint: send it in the X-Api-Key header (e.g. curl -H 'X-Api-Key: <key>' ...); Ctrl+C stops $stop_note."

if [[ "$silos" -lt 1 ]]; then
    echo "run.sh: --silos must be at least 1" >&2
    exit 2
fi

if [[ "$silos" -gt 1 || "$api_hosts" -gt 0 ]]; then
    # A local cluster: build once, then run the built programs (parallel `dotnet run`s would race
    # on the build). Silos start one after another (each applies migrations under an advisory lock
    # and the first creates the admin key), API hosts once the first silo's gateway is up.
    base_port="${urls##*:}"
    base_port="${base_port%%/*}"
    host="${urls%:*}"
    if [[ ! "$base_port" =~ ^[0-9]+$ ]]; then
        echo "run.sh: --urls must end in a port for --silos/--api-hosts (got $urls)" >&2
        exit 2
    fi
    dotnet build -c Release silo/CouponGrains.Silo >/dev/null
    dotnet build -c Release client/CouponGrains.Client >/dev/null
    logdir="$PGDATA_ROOT/logs"
    mkdir -p "$logdir"
    wait_ready() { # <port> <pid> <name>
        local i
        for ((i = 0; i < 240; i++)); do
            if http_ready "$1" /health/ready; then return 0; fi
            if ! kill -0 "$2" 2>/dev/null; then
                echo "run.sh: $3 exited; see its log in $logdir" >&2
                return 1
            fi
            sleep 0.5
        done
        echo "run.sh: $3 not ready after 120 s; see $logdir" >&2
        return 1
    }
    forward_stop_all() {
        local pid
        for pid in "${cluster_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    }
    trap forward_stop_all INT TERM
    for ((i = 0; i < silos; i++)); do
        seed=()
        if [[ "$i" -eq 0 ]]; then seed=("${demo[@]}"); fi
        Orleans__SiloPort=$((11111 + i)) Orleans__GatewayPort=$((30000 + i)) \
            dotnet silo/CouponGrains.Silo/bin/Release/net10.0/CouponGrains.Silo.dll \
            --urls "$host:$((base_port + i))" "${seed[@]}" "${extra[@]}" >"$logdir/silo-$i.log" 2>&1 &
        cluster_pids+=("$!")
        wait_ready $((base_port + i)) "$!" "silo $i" || exit 1
        echo "silo $i      $host:$((base_port + i))  (api /api/v1, /dashboard, /metrics; silo port $((11111 + i)), gateway $((30000 + i)); log $logdir/silo-$i.log)"
    done
    for ((j = 0; j < api_hosts; j++)); do
        dotnet client/CouponGrains.Client/bin/Release/net10.0/CouponGrains.Client.dll \
            --urls "$host:$((base_port + 1000 + j))" >"$logdir/api-$j.log" 2>&1 &
        cluster_pids+=("$!")
        wait_ready $((base_port + 1000 + j)) "$!" "API host $j" || exit 1
        echo "api host $j  $host:$((base_port + 1000 + j))  (api /api/v1, /metrics; log $logdir/api-$j.log)"
    done
    echo "Cluster up: $silos silo(s), $api_hosts API host(s). Ctrl+C stops them all."
    # Wait until every process has exited (a trapped signal interrupts wait; the trap forwards SIGTERM).
    while true; do
        alive=0
        for pid in "${cluster_pids[@]}"; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        [[ "$alive" -eq 1 ]] || break
        wait -n 2>/dev/null || true
    done
    exit 0
fi

# Run in the background and wait, so that SIGINT/SIGTERM reach this script at once;
# they are forwarded as SIGTERM (dotnet run passes it on to the silo, which then
# shuts down gracefully). The EXIT trap then stops PostgreSQL if we started it.
# shellcheck disable=SC2317  # invoked via trap
forward_stop() {
    if [[ -n "$silo_pid" ]]; then
        kill -TERM "$silo_pid" 2>/dev/null || true
    fi
}
trap forward_stop INT TERM

dotnet run -c Release --project silo/CouponGrains.Silo -- --urls "$urls" "${demo[@]}" "${extra[@]}" &
silo_pid=$!

silo_rc=0
while true; do
    if wait "$silo_pid"; then
        silo_rc=0
    else
        silo_rc=$?
    fi
    # wait returns early (status > 128) when a trapped signal arrives; keep waiting
    # until the silo process has really exited.
    if ! kill -0 "$silo_pid" 2>/dev/null; then
        break
    fi
done
silo_pid=""
exit "$silo_rc"
