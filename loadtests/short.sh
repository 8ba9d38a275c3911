#!/usr/bin/env bash
# The load test's short mode, run by ./test.sh: a silo on its own fresh database (on the PostgreSQL
# that ./test.sh started, named by ConnectionStrings__Postgres), every scenario for a few seconds,
# and the invariant check after each. Exits non-zero when any invariant is violated.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
# shellcheck source=../scripts/pg.sh
source "$ROOT/scripts/pg.sh"
: "${ConnectionStrings__Postgres:?ConnectionStrings__Postgres must name the test PostgreSQL}"

db="coupongrains_load_$$"
server="${ConnectionStrings__Postgres/Database=coupongrains_test/Database=postgres}"
host=$(sed -n 's/.*Host=\([^;]*\).*/\1/p' <<<"$server")
port=$(sed -n 's/.*Port=\([^;]*\).*/\1/p' <<<"$server")
psql -h "$host" -p "$port" -U postgres -d postgres -qc "CREATE DATABASE $db"
export ConnectionStrings__Postgres="Host=$host;Port=$port;Username=postgres;Database=$db;Maximum Pool Size=100"
export Api__BootstrapAdminKey="cg_load_short_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

read -r http_port silo_port gateway_port < <(pg_free_ports 3)
log="$(mktemp /tmp/coupongrains-load-silo.XXXXXX.log)"
reports="$(mktemp -d /tmp/coupongrains-load-report.XXXXXX)"
Orleans__SiloPort=$silo_port Orleans__GatewayPort=$gateway_port Orleans__ClusterId="load-$$" Logging__LogLevel__Default=Warning \
    dotnet silo/CouponGrains.Silo/bin/Release/net10.0/CouponGrains.Silo.dll --urls "http://127.0.0.1:$http_port" >"$log" 2>&1 &
silo=$!
cleanup() {
    local rc=$?
    [[ $rc -ne 0 ]] && tail -n 30 "$log" >&2
    kill "$silo" 2>/dev/null || true
    wait "$silo" 2>/dev/null || true
    rm -rf "$log" "$reports"
}
trap cleanup EXIT

ready=0
for _ in $(seq 1 120); do
    if http_ready "$http_port" /health/ready; then
        ready=1
        break
    fi
    kill -0 "$silo" 2>/dev/null || { echo "short load: the silo exited" >&2; exit 1; }
    sleep 0.5
done
[[ $ready -eq 1 ]] || { echo "short load: the silo was not ready within 60 s" >&2; exit 1; }

dotnet loadtests/CouponGrains.LoadTests/bin/Release/net10.0/CouponGrains.LoadTests.dll \
    --url "http://127.0.0.1:$http_port" --key "$Api__BootstrapAdminKey" --scenarios all --short --concurrency 64 \
    --out "$reports"
