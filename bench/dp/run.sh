#!/usr/bin/env bash
# bench/dp/run.sh - the data-plane benchmark, with PostgreSQL 15 beside it
# (the last part of `make bench`; `make bench-dp` runs it alone).
#
# Builds PostgreSQL's own test_shm_mq unchanged with PGXS (from the
# postgresql-15 source that tools/pg-source.sh fetches into target/pg-src)
# and bench/dp/bgw_bench_dp.c into target/bench/dp/, then:
#
#  1. starts target/release/bgworkerd on a scratch run directory with
#     bgw_bench_dp.so preloaded: its static worker runs the measurements
#     (test_shm_mq_pipelined, memcpy, dsm_create/attach/detach; definitions
#     in bgw_bench_dp.c's header comment) and writes its lines to a file;
#  2. initdb's a private PostgreSQL 15 cluster under the temporary directory
#     (as bench/run.sh does; run as user postgres when run as root) with
#     test_shm_mq.so in its dynamic_library_path, and runs the same code in a
#     backend: SELECT * FROM bgw_bench_dp_run(...); stops and removes it.
#
# Output: bench/run.sh's format: "name MEDIAN unit min MIN max MAX rounds N",
# going on with "pg15 MEDIAN pg15_min MIN pg15_max MAX ratio R ratio_min LO
# ratio_max HI" where PostgreSQL has the figure (R = ours / PostgreSQL's
# medians: for msgs/s and MB/s above 1 is faster, for ms and us below 1),
# then the targets, each figure beside its target, met or MISSED:
#   - every throughput (msgs/s) at least PostgreSQL 15's, judged on the
#     medians, each with both spreads (min..max over the rounds);
#   - the 1 MB, one-worker case within 2x of a plain memcpy of the same
#     bytes measured in the same round.
#
# Knobs (environment): DP_ROUNDS (2; 5 gives firmer medians, at about
# 25 s a round), DP_QUEUE (65536 bytes), DP_CASES ("LEN:COUNT:WORKERS ...",
# see below: 64 B, 8 KB and 1 MB messages, one and three workers, the
# 1 MB one-worker case 10,000 messages), DP_DSM_N (200 cycles per round
# and size), SKIP_PG (0), PG_CONFIG (pg_config), CC (cc), PG_TIMEOUT_S
# (300). About a minute on the shared 2 cores, most of it PostgreSQL's
# 10,000 1 MB messages (12 to 16 s a round).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DP_ROUNDS="${DP_ROUNDS:-2}"
DP_QUEUE="${DP_QUEUE:-65536}"
DP_CASES="${DP_CASES:-64:1000000:1 64:300000:3 8192:40000:1 8192:20000:3 1048576:10000:1 1048576:500:3}"
DP_DSM_N="${DP_DSM_N:-200}"
SKIP_PG="${SKIP_PG:-0}"
PG_CONFIG="${PG_CONFIG:-pg_config}"
PG_TIMEOUT_S="${PG_TIMEOUT_S:-300}"
CC="${CC:-cc}"
TMP="${TMPDIR:-/tmp}"

REL="$ROOT/target/release"
OUT="$ROOT/target/bench/dp"
DAEMON="$REL/bgworkerd"

if [ ! -x "$DAEMON" ]; then
    (cd "$ROOT" && cargo build --release)
fi

# --- build -----------------------------------------------------------------
mkdir -p "$OUT"
if ! SRC="$(bash "$ROOT/tools/pg-source.sh")"; then
    echo "# no data-plane figures: the postgresql-15 source (tools/pg-source.sh) is not available"
    exit 0
fi
rm -rf "$OUT/test_shm_mq"
cp -r "$SRC/src/test/modules/test_shm_mq" "$OUT/test_shm_mq"
make -s -C "$OUT/test_shm_mq" USE_PGXS=1 PG_CONFIG="$PG_CONFIG" >/dev/null
TSM="$OUT/test_shm_mq/test_shm_mq.so"
# shellcheck disable=SC2046  # pg_config prints several flags on purpose
"$CC" $("$PG_CONFIG" --cppflags) $("$PG_CONFIG" --cflags) $("$PG_CONFIG" --cflags_sl) \
    -isystem "$("$PG_CONFIG" --includedir-server)" -Wall -Wextra -Werror \
    -I"$ROOT/bench" -shared -o "$OUT/bgw_bench_dp.so" "$ROOT/bench/dp/bgw_bench_dp.c"

# --- scratch space and cleanup -----------------------------------------------
# shellcheck source=bench/pg_cluster.sh
. "$ROOT/bench/pg_cluster.sh"
bench_scratch bgw-bench-dp

# --- 1. libbgworker ---------------------------------------------------------
OURS="$RUNDIR/ours.txt"
echo "bench: data plane, libbgworker (bgworkerd) ..." >&2
BGW_BENCH_DP_OUT="$OURS" BGW_BENCH_DP_LIB="$TSM" BGW_BENCH_DP_CASES="$DP_CASES" \
    BGW_BENCH_DP_QUEUE="$DP_QUEUE" BGW_BENCH_DP_ROUNDS="$DP_ROUNDS" BGW_BENCH_DP_DSM_N="$DP_DSM_N" \
    "$DAEMON" -D "$RUNDIR" \
    -c max_worker_processes=8 \
    -c shared_preload_libraries="$OUT/bgw_bench_dp.so" \
    -c dynamic_library_path="$OUT/test_shm_mq:$OUT" \
    2>"$LOG" &
DPID=$!
deadline=$((SECONDS + PG_TIMEOUT_S))
while [ ! -f "$OURS" ]; do
    if ! kill -0 "$DPID" 2>/dev/null; then
        echo "bench/dp/run.sh: bgworkerd exited during the run" >&2
        exit 1
    fi
    if grep -Eq 'ERROR|FATAL|terminated by signal|bgw_bench_dp.*exited' "$LOG"; then
        echo "bench/dp/run.sh: the run under bgworkerd failed:" >&2
        grep -E 'ERROR|FATAL|terminated by signal|bgw_bench_dp.*exited' "$LOG" | head -5 >&2
        exit 1
    fi
    if [ "$SECONDS" -gt "$deadline" ]; then
        echo "bench/dp/run.sh: no result from bgworkerd after $PG_TIMEOUT_S s" >&2
        exit 1
    fi
    sleep 0.2
done
stop_daemon

# --- 2. PostgreSQL 15 ---------------------------------------------------------
PG15="$RUNDIR/pg15.txt"
: >"$PG15"
pg_check

pg_run() {
    pg_cluster_start bgw-bench-dp-pg15 "max_worker_processes = 8
shared_buffers = 16MB
huge_pages = off
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
dynamic_library_path = '@LIB@:\$libdir'" "$TSM" "$OUT/bgw_bench_dp.so" || return 1
    psql_ "CREATE FUNCTION bgw_bench_dp_run(text, text, int8, int, int) RETURNS SETOF text
           AS '$PGWORK/lib/bgw_bench_dp.so', 'bgw_bench_dp_run' LANGUAGE C STRICT" \
        >/dev/null 2>"$PGWORK/psql.err" || {
        why_no_pg="could not create the benchmark function: $(tail -1 "$PGWORK/psql.err")"
        return 1
    }
    echo "# version: $(psql_ 'SELECT version()')" >>"$PG15"
    echo "bench: data plane, PostgreSQL 15 ..." >&2
    if ! psql_ "SELECT * FROM bgw_bench_dp_run('$PGWORK/lib/test_shm_mq.so', '$DP_CASES',
                $DP_QUEUE, $DP_ROUNDS, $DP_DSM_N)" >>"$PG15" 2>"$PGWORK/psql.err"; then
        why_no_pg="the run in PostgreSQL failed: $(tail -1 "$PGWORK/psql.err")"
        return 1
    fi
    pg_log_problems "$PG15"
    stop_pg
}

if [ -z "$why_no_pg" ]; then
    pg_run || true
fi
stop_pg

# --- 3. side by side, and the targets -------------------------------------------
if [ -n "$why_no_pg" ]; then
    grep -v '^# targets' "$OURS" | grep -v '^#   '
    echo "# no PostgreSQL 15 data-plane comparison: $why_no_pg"
    echo "# targets (data plane; without PostgreSQL only the memcpy target):"
    grep '^#   ' "$OURS"
    exit 0
fi
awk '
    NR == FNR {
        if ($0 !~ /^#/ && NF == 9) {
            pg[$1] = $2; pgmin[$1] = $5; pgmax[$1] = $7
        } else if ($0 ~ /^# version/) ver = $0
        else if ($0 ~ /^#   /) pgtail[++npt] = $0
        next
    }
    FNR == 1 {
        print "# data plane: pg15 = PostgreSQL 15, same run, same code (bench/dp/bgw_bench_dp.c driving test_shm_mq);"
        print "#   ratio = libbgworker / PostgreSQL 15 (medians): for msgs/s and MB/s above 1 is faster, for ms and us below 1"
        if (ver != "") print ver
    }
    /^# targets/ { next }
    /^#   / { ours_tail[++not] = $0; next }
    /^#/ || NF != 9 { print; next }
    {
        ours[$1] = $2; omin[$1] = $5; omax[$1] = $7; order[++nm] = $1
        if ($1 in pg) {
            r = (pg[$1] + 0 != 0) ? sprintf("%.3g", $2 / pg[$1]) : "n/a"
            rlo = (pgmax[$1] + 0 != 0) ? sprintf("%.3g", $5 / pgmax[$1]) : "n/a"
            rhi = (pgmin[$1] + 0 != 0) ? sprintf("%.3g", $7 / pgmin[$1]) : "n/a"
            printf "%s pg15 %s pg15_min %s pg15_max %s ratio %s ratio_min %s ratio_max %s\n", \
                $0, pg[$1], pgmin[$1], pgmax[$1], r, rlo, rhi
        } else
            print
    }
    END {
        print "# targets (data plane): throughput at least PostgreSQL 15 (medians), 1 MB through the queue within 2x memcpy:"
        for (i = 1; i <= nm; i++) {
            m = order[i]
            if (m !~ /_rate$/ || !(m in pg)) continue
            printf "#   %-30s %12.1f (%.1f..%.1f) >= pg15 %12.1f (%.1f..%.1f) %s\n", m, \
                ours[m], omin[m], omax[m], pg[m], pgmin[m], pgmax[m], \
                (ours[m] >= pg[m]) ? "met" : "MISSED"
        }
        for (i = 1; i <= not; i++) print ours_tail[i]
        if (npt > 0) {
            print "# PostgreSQL 15 against the memcpy target (its own memcpy, same rounds):"
            for (i = 1; i <= npt; i++) print pgtail[i]
        }
    }
' "$PG15" "$OURS"
