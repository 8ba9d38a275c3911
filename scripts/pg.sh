#!/usr/bin/env bash
# Sourceable helpers for running a private PostgreSQL server (tests, local runs).
#
#   source scripts/pg.sh
#   pg_ensure_installed            # installs PostgreSQL via apt-get if missing, sets PG_BIN
#   pg_start <datadir> <port>      # initdb if needed, start on 127.0.0.1:<port> (PG_MAX_CONNECTIONS, default 300;
#                                  # PG_EXTRA_OPTIONS: more server options, e.g. "-c max_wal_size=8GB")
#   pg_create_db <port> <dbname>   # create the database if it does not exist
#   pg_stop <datadir>              # fast shutdown, ignored if not running
#   pg_free_port                   # print a free TCP port below the ephemeral range
#   pg_free_ports <n>              # print n distinct free ports on one line
#
# When running as root every PostgreSQL command runs as the "postgres" OS user
# (PostgreSQL refuses to run as root) and the data directory is chowned to it.
# Safe to source from scripts using `set -euo pipefail`.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
fi

PG_BIN="${PG_BIN:-}"
PG_OS_USER="${PG_OS_USER:-postgres}"

_pg_log() {
    printf '[pg] %s\n' "$*" >&2
}

# Newest /usr/lib/postgresql/<ver>/bin that has initdb, or nothing.
_pg_find_bin() {
    local dir best="" best_ver=-1 ver
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" ]] || continue
        ver="${dir#/usr/lib/postgresql/}"
        ver="${ver%%/*}"
        ver="${ver%%.*}"
        [[ "$ver" =~ ^[0-9]+$ ]] || continue
        if (( ver > best_ver )); then
            best_ver=$ver
            best=$dir
        fi
    done
    [[ -n "$best" ]] && printf '%s\n' "$best"
    return 0
}

pg_ensure_installed() {
    local bin
    bin="$(_pg_find_bin)"
    if [[ -z "$bin" ]]; then
        _pg_log "PostgreSQL server binaries not found; installing with apt-get"
        local sudo=()
        if [[ "$(id -u)" -ne 0 ]]; then
            if command -v sudo >/dev/null 2>&1; then
                sudo=(sudo)
            else
                _pg_log "error: not root and sudo is unavailable; install the 'postgresql' package first"
                return 1
            fi
        fi
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            postgresql postgresql-client >&2 || return 1
        bin="$(_pg_find_bin)"
        if [[ -z "$bin" ]]; then
            _pg_log "error: PostgreSQL installed but no /usr/lib/postgresql/*/bin/initdb found"
            return 1
        fi
    fi
    PG_BIN="$bin"
    export PG_BIN
}

# Run a PostgreSQL command as the database OS user when we are root.
_pg_run() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

_pg_require_bin() {
    if [[ -z "${PG_BIN:-}" || ! -x "$PG_BIN/pg_ctl" ]]; then
        pg_ensure_installed || return 1
    fi
}

# pg_can_traverse <dir>: true when the PostgreSQL OS user can reach <dir> (always
# true when not running as root, since then PostgreSQL runs as the current user).
pg_can_traverse() {
    [[ "$(id -u)" -ne 0 ]] && return 0
    runuser -u "$PG_OS_USER" -- test -x "$1" 2>/dev/null
}

# Every ancestor of $1 must be traversable (x) by the postgres user.
_pg_check_traversable() {
    local path="$1"
    if ! runuser -u "$PG_OS_USER" -- test -x "$path" 2>/dev/null; then
        local d="$path" bad=""
        while [[ "$d" != "/" && -n "$d" ]]; do
            if ! runuser -u "$PG_OS_USER" -- test -x "$d" 2>/dev/null; then
                bad="$d"
            fi
            d="$(dirname "$d")"
        done
        _pg_log "error: user '$PG_OS_USER' cannot traverse '${bad:-$path}' (needed to reach $path)."
        _pg_log "       Use a data directory under a world-traversable path (e.g. /tmp), or chmod o+x the parent directories."
        return 1
    fi
}

# pg_start <datadir> <port>
pg_start() {
    local datadir="$1" port="$2"
    if [[ -z "$datadir" || -z "$port" ]]; then
        _pg_log "usage: pg_start <datadir> <port>"
        return 2
    fi
    _pg_require_bin || return 1

    # Note: callers may run us inside `if`, where `set -e` is off, so every step
    # checks its own status.
    mkdir -p "$datadir" || return 1
    datadir="$(cd "$datadir" && pwd -P)" || return 1
    local parent logfile sockdir
    parent="$(dirname "$datadir")"
    logfile="$parent/postgres.log"
    # Unix socket next to the data dir (short path, no /var/run/postgresql needed).
    sockdir="$parent"

    if [[ "$(id -u)" -eq 0 ]]; then
        if ! id "$PG_OS_USER" >/dev/null 2>&1; then
            _pg_log "error: OS user '$PG_OS_USER' does not exist (install the postgresql package)"
            return 1
        fi
        chown "$PG_OS_USER:" "$parent" || return 1
        chown -R "$PG_OS_USER:" "$datadir" || return 1
        chmod 700 "$datadir" || return 1
        touch "$logfile" || return 1
        chown "$PG_OS_USER:" "$logfile" || return 1
        _pg_check_traversable "$datadir" || return 1
    else
        chmod 700 "$datadir" || return 1
    fi

    if [[ ! -f "$datadir/PG_VERSION" ]]; then
        _pg_log "initdb $datadir"
        if ! _pg_run "$PG_BIN/initdb" -D "$datadir" -A trust -U postgres --encoding=UTF8 \
                >>"$logfile" 2>&1; then
            _pg_log "error: initdb failed; see $logfile"
            tail -n 20 "$logfile" >&2 || true
            return 1
        fi
    fi

    if _pg_run "$PG_BIN/pg_ctl" -D "$datadir" status >/dev/null 2>&1; then
        _pg_log "PostgreSQL already running for $datadir"
        return 0
    fi

    # A stale pid file from a crashed run would block startup; pg_ctl handles that,
    # but a live server from another data dir on the same port would not.
    _pg_log "starting PostgreSQL ($PG_BIN) on 127.0.0.1:$port, data $datadir"
    if ! _pg_run "$PG_BIN/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 \
            -o "-p $port -k $sockdir -c listen_addresses=127.0.0.1 -c max_connections=${PG_MAX_CONNECTIONS:-300} -c synchronous_commit=on -c shared_buffers=256MB -c fsync=on -c track_wal_io_timing=on ${PG_EXTRA_OPTIONS:-}" \
            start >/dev/null; then
        _pg_log "error: PostgreSQL failed to start; see $logfile"
        tail -n 20 "$logfile" >&2 || true
        return 1
    fi
}

# pg_running_port <datadir>: print the port of the server running on <datadir>;
# returns 1 (prints nothing) when no server is running there.
pg_running_port() {
    local datadir="$1"
    [[ -n "$datadir" && -f "$datadir/PG_VERSION" ]] || return 1
    if [[ -z "${PG_BIN:-}" ]]; then
        PG_BIN="$(_pg_find_bin)"
        [[ -n "$PG_BIN" ]] || return 1
    fi
    _pg_run "$PG_BIN/pg_ctl" -D "$datadir" status >/dev/null 2>&1 || return 1
    # Line 4 of postmaster.pid is the port.
    sed -n '4p' "$datadir/postmaster.pid" 2>/dev/null
}

# pg_stop <datadir>
pg_stop() {
    local datadir="$1"
    [[ -n "$datadir" && -f "$datadir/PG_VERSION" ]] || return 0
    if [[ -z "${PG_BIN:-}" ]]; then
        PG_BIN="$(_pg_find_bin)"
        [[ -n "$PG_BIN" ]] || return 0
    fi
    if _pg_run "$PG_BIN/pg_ctl" -D "$datadir" status >/dev/null 2>&1; then
        _pg_log "stopping PostgreSQL ($datadir)"
        _pg_run "$PG_BIN/pg_ctl" -D "$datadir" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
    return 0
}

# True when something listens on 127.0.0.1:<port> (or any address on that port).
_pg_port_in_use() {
    local port="$1"
    if command -v ss >/dev/null 2>&1; then
        ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
        return 1
    fi
    # Fallback: try to connect with bash's /dev/tcp.
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    return 1
}

# Ports are drawn below the kernel's ephemeral range, where outgoing connections take their local
# ports: a port from that range can be taken by a client socket before the server meant for it binds.
# pg_free_ports <n> prints n distinct ports on one line (read -r a b c < <(pg_free_ports 3)).
pg_free_ports() {
    local want="${1:-1}" i port top=32767 found=" "
    if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
        read -r top _ </proc/sys/net/ipv4/ip_local_port_range
        top=$((top - 1))
        ((top > 21000)) || top=32767
    fi
    for ((i = 0; i < 500 && want > 0; i++)); do
        port=$((20000 + RANDOM % (top - 20000 + 1)))
        [[ "$found" == *" $port "* ]] && continue
        if ! _pg_port_in_use "$port"; then
            found+="$port "
            want=$((want - 1))
        fi
    done
    if ((want > 0)); then
        _pg_log "error: no free TCP port found in 20000-$top"
        return 1
    fi
    found="${found# }"
    printf '%s\n' "${found% }"
}

pg_free_port() {
    pg_free_ports 1
}

# pg_create_db <port> <dbname>
pg_create_db() {
    local port="$1" db="$2"
    if [[ -z "$port" || -z "$db" ]]; then
        _pg_log "usage: pg_create_db <port> <dbname>"
        return 2
    fi
    _pg_require_bin || return 1
    if [[ ! "$db" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
        _pg_log "error: unsupported database name '$db'"
        return 2
    fi
    local exists
    exists="$("$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -X -At \
        -v ON_ERROR_STOP=1 -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" || return 1
    if [[ "$exists" != "1" ]]; then
        _pg_log "creating database $db"
        "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -X -q \
            -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\" ENCODING 'UTF8' TEMPLATE template0" >/dev/null || return 1
    fi
}

# http_ready <port> <path>: true when GET http://127.0.0.1:<port><path> answers 200 (no curl needed).
http_ready() {
    local port="$1" path="$2"
    (
        exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
        printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
        IFS= read -r -t 5 status <&3 || exit 1
        [[ "$status" == *" 200 "* ]]
    ) 2>/dev/null
}
