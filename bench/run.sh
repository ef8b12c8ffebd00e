#!/usr/bin/env bash
# bench/run.sh - libbgworker benchmark, with PostgreSQL 15 beside it (`make bench`).
#
# Builds the worker module (bgw_bench_worker.c, with PGXS compiler flags),
# the host program (bgw_bench.c, linked with libbgworker) and the
# PostgreSQL-side runner (pg15/bgw_bench_pg15.c) into target/bench/, then:
#
#  1. starts target/release/bgworkerd on a scratch run directory with the
#     worker module preloaded, runs bgw_bench (this machine's fork/pipe floor,
#     then the measurements), stops the daemon with a fast shutdown (SIGINT);
#  2. initdb's a private PostgreSQL 15 cluster under the temporary directory
#     (unix socket only, run as user postgres when this script runs as root),
#     preloads the same worker module, and runs the same measurements -- the
#     same code, bench_core.h -- inside a backend with bgw_bench_pg15_run();
#     stops the server and removes the cluster.
#
# Output: "name MEDIAN unit min MIN max MAX rounds N" lines (each figure
# measured once per round, ROUNDS rounds, with the floor measured before the
# first round and after each one, so that every ratio to the floor uses the
# floor of its own round); '#' lines are context and the targets.  Where
# PostgreSQL 15 has the same metric, the line goes on with "pg15 MEDIAN
# pg15_min MIN pg15_max MAX ratio R ratio_min LO ratio_max HI", R being
# libbgworker's median divided by PostgreSQL's (for times below 1 is
# faster, for rates above 1 is) and LO..HI the widest the ratio can be given
# both spreads (our min / their max .. our max / their min).  PostgreSQL's
# own ratios to its floor (forks from its backend) come with it, and its
# targets are printed after ours.  Without a PostgreSQL 15 server a '#' line says why
# the comparison is missing and the rest is printed as usual.  The metric
# names and definitions are those of bgw_bench.c's header comment.
#
# Knobs (environment): ROUNDS (5), and per round LAT_N (100), CHURN_N (1000),
# CHURN_CONC ("1 8 64"), BURST_K (200); MAX_WORKERS (256), FLOOR_SCALE (1:
# 2000 forks and 1000 round trips per floor reading), SKIP_FLOOR (0),
# SKIP_PG (0: 1 leaves PostgreSQL out), PG_CONFIG (pg_config), CC (cc),
# FAT_MB (0; N preloads bench/bgw_bench_fat.c too, in both, whose _PG_init
# allocates and writes N MB that every worker inherits),
# BENCH_MAJOR (15; 17 or 18: bgworkerd runs the worker module built against
# that major's real headers, which `make pg-headers-17`/`-18` unpack under
# target/pg, with PostgreSQL 15's flags; PostgreSQL 15 runs its own build,
# so the ratios compare a 17 or 18 module under libbgworker with PostgreSQL
# 15, and the values with a BENCH_MAJOR=15 run).
# DEATH_N (60): rounds of bench/death.sh (a waiter's notice of a SIGKILLed
# bgworkerd, beside its 5 ms target).
# Last, bench/dp/run.sh: the data plane (shm_mq throughput through
# PostgreSQL's test_shm_mq, memcpy, dsm latency), beside PostgreSQL 15, about
# a minute more (its knobs are at its top).
# Default run: about three minutes on 2 cores; the PostgreSQL part is bounded by
# statement_timeout (PG_TIMEOUT_S, 300).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-5}"
LAT_N="${LAT_N:-100}"
CHURN_N="${CHURN_N:-1000}"
CHURN_CONC="${CHURN_CONC:-1 8 64}"
BURST_K="${BURST_K:-200}"
MAX_WORKERS="${MAX_WORKERS:-256}"
FLOOR_SCALE="${FLOOR_SCALE:-1}"
SKIP_FLOOR="${SKIP_FLOOR:-0}"
SKIP_PG="${SKIP_PG:-0}"
PG_TIMEOUT_S="${PG_TIMEOUT_S:-300}"
PG_CONFIG="${PG_CONFIG:-pg_config}"
CC="${CC:-cc}"
BENCH_MAJOR="${BENCH_MAJOR:-15}"
FAT_MB="${FAT_MB:-0}"
TMP="${TMPDIR:-/tmp}"

REL="$ROOT/target/release"
OUT="$ROOT/target/bench"
DAEMON="$REL/bgworkerd"
MODULE="$OUT/bgw_bench_worker.so"
# The module bgworkerd runs (BENCH_MAJOR's build); MODULE is 15's.
OUR_MODULE="$MODULE"
case "$BENCH_MAJOR" in
15) ;;
17 | 18)
    MAJOR_INCLUDE="$ROOT/target/pg/$BENCH_MAJOR/usr/include/postgresql/$BENCH_MAJOR/server"
    if [ ! -f "$MAJOR_INCLUDE/postmaster/bgworker.h" ]; then
        echo "bench/run.sh: PostgreSQL $BENCH_MAJOR headers missing: run 'make pg-headers-$BENCH_MAJOR'" >&2
        exit 1
    fi
    OUR_MODULE="$OUT/pg$BENCH_MAJOR/bgw_bench_worker.so"
    ;;
*)
    echo "bench/run.sh: BENCH_MAJOR must be 15, 17 or 18, not $BENCH_MAJOR" >&2
    exit 2
    ;;
esac

if [ ! -x "$DAEMON" ] || [ ! -e "$REL/libbgworker.so" ]; then
    (cd "$ROOT" && cargo build --release)
fi

# --- build -----------------------------------------------------------------
mkdir -p "$OUT"
# shellcheck disable=SC2046  # pg_config prints several flags on purpose
PGXS_FLAGS=($("$PG_CONFIG" --cppflags) $("$PG_CONFIG" --cflags) $("$PG_CONFIG" --cflags_sl)
            -isystem "$("$PG_CONFIG" --includedir-server)")
"$CC" "${PGXS_FLAGS[@]}" -Wall -Wextra -Werror -I"$ROOT/bench" -shared \
    -o "$MODULE" "$ROOT/bench/bgw_bench_worker.c"
"$CC" "${PGXS_FLAGS[@]}" -Wall -Wextra -Werror -I"$ROOT/bench" -shared \
    -o "$OUT/bgw_bench_pg15.so" "$ROOT/bench/pg15/bgw_bench_pg15.c"
if [ "$OUR_MODULE" != "$MODULE" ]; then
    mkdir -p "$(dirname "$OUR_MODULE")"
    # shellcheck disable=SC2046  # pg_config prints several flags on purpose
    "$CC" $("$PG_CONFIG" --cppflags) $("$PG_CONFIG" --cflags) $("$PG_CONFIG" --cflags_sl) \
        -isystem "$MAJOR_INCLUDE" -Wall -Wextra -Werror -I"$ROOT/bench" -shared \
        -o "$OUR_MODULE" "$ROOT/bench/bgw_bench_worker.c"
fi
FAT_MODULE="$OUT/bgw_bench_fat.so"
"$CC" "${PGXS_FLAGS[@]}" -Wall -Wextra -Werror -shared -o "$FAT_MODULE" "$ROOT/bench/bgw_bench_fat.c"
# what bgworkerd and PostgreSQL preload besides the worker module
OUR_PRELOAD="$OUR_MODULE"
if [ "$FAT_MB" != 0 ]; then
    export BGW_BENCH_FAT_MB="$FAT_MB"
    OUR_PRELOAD="$OUR_MODULE,$FAT_MODULE"
fi
"$CC" -O2 -Wall -Wextra -Werror -I"$ROOT/include" -I"$ROOT/bench" \
    -o "$OUT/bgw_bench" "$ROOT/bench/bgw_bench.c" \
    -L"$REL" -lbgworker -Wl,-rpath,"$REL" -lm

# --- scratch space and cleanup -----------------------------------------------
# shellcheck source=bench/pg_cluster.sh
. "$ROOT/bench/pg_cluster.sh"
bench_scratch bgw-bench

# --- 1. libbgworker ---------------------------------------------------------
OURS="$RUNDIR/ours.txt"
echo "bench: libbgworker (bgworkerd) ..." >&2
{
    echo "# host: $(uname -srm), $(nproc) cpus, THP=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo n/a)"
    echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)   (other load skews results)"
    echo "# libbgworker $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '(no commit)'), module built with $("$PG_CONFIG" --version)'s flags against PostgreSQL $BENCH_MAJOR's headers"
} >"$OURS"

"$DAEMON" -D "$RUNDIR" \
    -c max_worker_processes="$MAX_WORKERS" \
    -c shared_preload_libraries="$OUR_PRELOAD" \
    2>"$LOG" &
DPID=$!

for _ in $(seq 100); do
    grep -qs 'bgworkerd ready' "$LOG" && break
    if ! kill -0 "$DPID" 2>/dev/null; then
        echo "bench/run.sh: bgworkerd exited before it was ready" >&2
        exit 1
    fi
    sleep 0.1
done
if ! grep -q 'bgworkerd ready' "$LOG"; then
    echo "bench/run.sh: bgworkerd not ready after 10 s" >&2
    exit 1
fi

{
    echo "# preload: $OUR_PRELOAD"
    [ "$FAT_MB" = 0 ] || echo "# _PG_init of bgw_bench_fat.so allocated and wrote $FAT_MB MB (inherited by every worker)"
    echo "max_worker_processes $MAX_WORKERS count"
    echo "bgworkerd_rss $(awk '/^VmRSS/ {print $2}' "/proc/$DPID/status") kB"
} >>"$OURS"

args=(-D "$RUNDIR" -l "$OUR_MODULE" -n "$LAT_N" -c "$CHURN_N" -C "$CHURN_CONC"
      -k "$BURST_K" -m "$MAX_WORKERS" -f "$FLOOR_SCALE" -R "$ROUNDS")
[ "$SKIP_FLOOR" = 1 ] && args+=(-F)
"$OUT/bgw_bench" "${args[@]}" >>"$OURS"
echo "bgworkerd_rss_after $(awk '/^VmRSS/ {print $2}' "/proc/$DPID/status") kB" >>"$OURS"

# fast shutdown
kill -INT "$DPID"
drc=0
wait "$DPID" || drc=$?
DPID=""
if [ "$drc" != 0 ]; then
    echo "# bgworkerd exited with status $drc after SIGINT" >>"$OURS"
fi
if grep -Eq 'WARNING|ERROR|FATAL|PANIC' "$LOG"; then
    echo "# bgworkerd log had warnings/errors:" >>"$OURS"
    grep -E 'WARNING|ERROR|FATAL|PANIC' "$LOG" | head -20 | sed 's/^/#   /' >>"$OURS"
fi

# --- 2. PostgreSQL 15 ---------------------------------------------------------
PG15="$RUNDIR/pg15.txt"
: >"$PG15"
pg_check

pg_run() {
    local preload="@LIB@/bgw_bench_worker.so"
    [ "$FAT_MB" = 0 ] || preload="$preload,@LIB@/bgw_bench_fat.so"
    pg_cluster_start bgw-bench-pg15 "max_worker_processes = $MAX_WORKERS
max_parallel_workers = 8
shared_buffers = 16MB
huge_pages = off
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
shared_preload_libraries = '$preload'" "$MODULE" "$OUT/bgw_bench_pg15.so" "$FAT_MODULE" || return 1
    # (a function called after ||: set -e does not apply, so each step checks)
    psql_ "CREATE FUNCTION bgw_bench_pg15_run(text, int, int, text, int, int, int, int) RETURNS SETOF text
           AS '$PGWORK/lib/bgw_bench_pg15.so', 'bgw_bench_pg15_run' LANGUAGE C STRICT" \
        >/dev/null 2>"$PGWORK/psql.err" || {
        why_no_pg="could not create the benchmark function: $(tail -1 "$PGWORK/psql.err")"
        return 1
    }
    {
        echo "# version: $(psql_ 'SELECT version()')"
        echo "max_worker_processes $(psql_ 'SHOW max_worker_processes') count"
        echo "pg_postmaster_rss $(awk '/^VmRSS/ {print $2}' "/proc/$(head -1 "$PGWORK/data/postmaster.pid")/status") kB"
    } >>"$PG15"
    echo "bench: PostgreSQL 15: $ROUNDS rounds ..." >&2
    local floor_fork=$((2000 * FLOOR_SCALE)) floor_rtt=$((1000 * FLOOR_SCALE))
    [ "$SKIP_FLOOR" = 1 ] && floor_fork=0
    if ! psql_ "SELECT * FROM bgw_bench_pg15_run('$PGWORK/lib/bgw_bench_worker.so',
                $LAT_N, $CHURN_N, '$CHURN_CONC', $BURST_K, $ROUNDS, $floor_fork, $floor_rtt)" \
        >>"$PG15" 2>"$PGWORK/psql.err"; then
        why_no_pg="the run in PostgreSQL failed: $(tail -1 "$PGWORK/psql.err")"
        return 1
    fi
    pg_log_problems "$PG15"
    stop_pg
}

if [ -z "$why_no_pg" ]; then
    echo "bench: PostgreSQL 15 ..." >&2
    pg_run || true
fi
stop_pg
if [ -n "$PGWORK" ]; then
    rm -rf "$PGWORK"
    PGWORK=""
fi

# --- 3. side by side ------------------------------------------------------------
if [ -n "$why_no_pg" ]; then
    cat "$OURS"
    echo "# no PostgreSQL 15 comparison: $why_no_pg"
else
    awk '
        NR == FNR {
            if ($0 !~ /^#/ && (NF == 3 || NF == 9)) {
                pg[$1] = $2
                pgmin[$1] = (NF == 9) ? $5 : $2
                pgmax[$1] = (NF == 9) ? $7 : $2
            } else if ($0 ~ /^# (version|PostgreSQL)/) ctx[++nctx] = $0
            else if ($0 ~ /^#( targets|   )/) tail[++ntail] = $0
            next
        }
        FNR == 1 {
            print "# pg15 = PostgreSQL 15, same run, same code (bench_core.h);"
            print "#   ratio = libbgworker / PostgreSQL 15 (medians): for us and ms below 1 is faster, for workers/s above 1;"
            print "#   ratio_min..ratio_max = our min / their max .. our max / their min"
            for (i = 1; i <= nctx; i++) print ctx[i]
        }
        /^#/ || (NF != 3 && NF != 9) { print; next }
        {
            other = ($1 ~ /^bgworkerd_rss/) ? "pg_postmaster_rss" : $1
            if (other in pg && $1 != "max_worker_processes" && $1 !~ /_n$/ && $3 != "x") {
                lo = (NF == 9) ? $5 : $2
                hi = (NF == 9) ? $7 : $2
                r = (pg[other] + 0 != 0) ? sprintf("%.3g", $2 / pg[other]) : "n/a"
                rlo = (pgmax[other] + 0 != 0) ? sprintf("%.3g", lo / pgmax[other]) : "n/a"
                rhi = (pgmin[other] + 0 != 0) ? sprintf("%.3g", hi / pgmin[other]) : "n/a"
                printf "%s pg15 %s pg15_min %s pg15_max %s ratio %s ratio_min %s ratio_max %s\n", \
                    $0, pg[other], pgmin[other], pgmax[other], r, rlo, rhi
            } else if ($3 == "x" && ($1 in pg)) {
                printf "%s pg15 %s pg15_min %s pg15_max %s\n", $0, pg[$1], pgmin[$1], pgmax[$1]
            } else
                print
        }
        END {
            if (ntail > 0) {
                print "# PostgreSQL 15 against the same targets (its own floor: forks of its backend, same rounds):"
                for (i = 1; i <= ntail; i++) print tail[i]
            }
        }
    ' "$PG15" "$OURS"
fi
# --- 4. dead-supervisor detection (bench/death.sh; no PostgreSQL figure) ------
CC="$CC" bash "$ROOT/bench/death.sh" || echo "# bench/death.sh failed"
# --- 5. the data plane (bench/dp/run.sh: shm_mq through test_shm_mq, dsm) ----
CC="$CC" SKIP_PG="$SKIP_PG" PG_CONFIG="$PG_CONFIG" bash "$ROOT/bench/dp/run.sh" ||
    echo "# bench/dp/run.sh failed"
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
