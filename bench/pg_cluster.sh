# bench/pg_cluster.sh -- sourced by bench/run.sh and bench/dp/run.sh: the
# scratch run directory of bgworkerd and the private PostgreSQL 15 cluster a
# benchmark runs beside it, and their cleanup.
#
# The sourcing script sets TMP, PG_CONFIG, SKIP_PG and PG_TIMEOUT_S first,
# and keeps the daemon it starts in DPID. Then:
#   bench_scratch PREFIX     makes RUNDIR (LOG in it) and installs the EXIT
#                            trap that stops the daemon and the cluster and
#                            removes both directories;
#   pg_check                 sets PG_BIN and why_no_pg ("" when a cluster
#                            can be run);
#   pg_cluster_start PREFIX CONF FILE...
#                            initdb's a cluster in a new PGWORK (as user
#                            postgres when run as root), copies FILEs into
#                            PGWORK/lib, appends CONF to postgresql.conf
#                            (after listen_addresses and the socket
#                            directory; @LIB@ in CONF stands for
#                            PGWORK/lib), starts it; 1 with why_no_pg set
#                            when a step fails;
#   psql_ SQL                runs SQL in the cluster (statement_timeout
#                            PG_TIMEOUT_S), values unaligned;
#   pg_log_problems FILE     appends the server log's WARNING..PANIC lines
#                            (the first 20) to FILE;
#   stop_pg, stop_daemon     stop the cluster / the daemon (idempotent).

DPID=""
PGWORK=""
AS_PG=()
PG_STARTED=0

stop_daemon() {
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        kill -INT "$DPID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$DPID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$DPID" 2>/dev/null || true
    fi
    if [ -n "$DPID" ]; then
        wait "$DPID" 2>/dev/null || true
    fi
    DPID=""
}

stop_pg() {
    if [ "$PG_STARTED" = 1 ]; then
        "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PGWORK/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PGWORK/data" -m immediate -w -t 60 stop >/dev/null 2>&1 ||
            true
        PG_STARTED=0
    fi
}

bench_cleanup() {
    local rc=$?
    stop_daemon
    stop_pg
    if [ "$rc" != 0 ] && [ -s "$LOG" ]; then
        echo "# bgworkerd log (last 20 lines):" >&2
        tail -20 "$LOG" | sed 's/^/#   /' >&2
    fi
    rm -rf "$RUNDIR"
    [ -z "$PGWORK" ] || rm -rf "$PGWORK"
    exit "$rc"
}

bench_scratch() {
    RUNDIR="$(mktemp -d "$TMP/$1.XXXXXX")"
    LOG="$RUNDIR/bgworkerd.log"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

pg_check() {
    PG_BIN="$("$PG_CONFIG" --bindir 2>/dev/null || true)"
    why_no_pg=""
    if [ "$SKIP_PG" = 1 ]; then
        why_no_pg="SKIP_PG=1"
    elif ! "$PG_CONFIG" --version 2>/dev/null | grep -q '^PostgreSQL 15'; then
        why_no_pg="$PG_CONFIG is not PostgreSQL 15's"
    elif [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ] || [ ! -x "$PG_BIN/psql" ]; then
        why_no_pg="the PostgreSQL 15 server is not installed ($PG_BIN/postgres; package postgresql-15)"
    elif [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        why_no_pg="running as root and there is no user postgres to run the server as"
    fi
}

pg_cluster_start() {
    local prefix="$1" conf="$2"
    shift 2
    PGWORK="$(mktemp -d "$TMP/$prefix.XXXXXX")"
    mkdir -p "$PGWORK/lib"
    cp "$@" "$PGWORK/lib/"
    chmod 755 "$PGWORK"
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres: "$PGWORK"
        AS_PG=(runuser -u postgres --)
    fi
    (cd "$PGWORK" && "${AS_PG[@]}" "$PG_BIN/initdb" -D "$PGWORK/data" -U postgres -A trust \
        -E UTF8 --locale=C --no-sync >"$PGWORK/initdb.log" 2>&1) || {
        why_no_pg="initdb failed: $(tail -1 "$PGWORK/initdb.log")"
        return 1
    }
    printf "\n# --- %s ---\nlisten_addresses = ''\nunix_socket_directories = '%s'\n%s\n" \
        "$prefix" "$PGWORK" "${conf//@LIB@/$PGWORK/lib}" |
        "${AS_PG[@]}" tee -a "$PGWORK/data/postgresql.conf" >/dev/null
    (cd "$PGWORK" && "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PGWORK/data" -l "$PGWORK/server.log" \
        -w -t 60 start >/dev/null 2>&1) || {
        why_no_pg="the server did not start: $(tail -1 "$PGWORK/server.log" 2>/dev/null)"
        return 1
    }
    PG_STARTED=1
}

psql_() {
    (cd "$PGWORK" && PGOPTIONS="-c statement_timeout=${PG_TIMEOUT_S}s" \
        "${AS_PG[@]}" "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
        -h "$PGWORK" -U postgres -d postgres -c "$1")
}

pg_log_problems() {
    if grep -Eq 'WARNING|ERROR|FATAL|PANIC' "$PGWORK/server.log"; then
        echo "# PostgreSQL's log had warnings/errors:" >>"$1"
        grep -E 'WARNING|ERROR|FATAL|PANIC' "$PGWORK/server.log" | head -20 | sed 's/^/#   /' >>"$1"
    fi
}
