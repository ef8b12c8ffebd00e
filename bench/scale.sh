#!/usr/bin/env bash
# bench/scale.sh - the supervisor with many slots (`make bench-scale`).
#
# Builds the worker module and bench/bgw_scale.c into target/bench/, starts
# two bgworkerd instances with the module preloaded, one with SMALL slots
# (256) and one with BIG (10000), and runs bgw_scale against both (rounds
# alternating between them, the floor measured between rounds; see
# bgw_scale.c for the figures). Output as `make bench`: "name MEDIAN unit
# min MIN max MAX rounds N" lines, then the targets, each met or MISSED.
# PostgreSQL 15 is not run here: `make bench` compares with it.
#
# Knobs (environment): SMALL (256), BIG (10000), ROUNDS (5), and per round
# LAT_N (100), CHURN_N (1000), CHURN_CONC ("1 8 64"), BURST_K (1000);
# ALL_K (BIG: sleeping workers all running at once, at the end), CC (cc),
# SKIP_BIGHOST (0: 1 leaves out bench/bighost.sh, which runs after).
# Needs room for ALL_K processes (RLIMIT_NPROC, pid_max) and a few GB of
# memory for them. About twelve minutes on 2 cores with bench/bighost.sh,
# half of it PostgreSQL forking from a 236 MB postmaster.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SMALL="${SMALL:-256}"
BIG="${BIG:-10000}"
ROUNDS="${ROUNDS:-5}"
LAT_N="${LAT_N:-100}"
CHURN_N="${CHURN_N:-1000}"
CHURN_CONC="${CHURN_CONC:-1 8 64}"
BURST_K="${BURST_K:-1000}"
ALL_K="${ALL_K:-$BIG}"
PG_CONFIG="${PG_CONFIG:-pg_config}"
CC="${CC:-cc}"
TMP="${TMPDIR:-/tmp}"

REL="$ROOT/target/release"
OUT="$ROOT/target/bench"
DAEMON="$REL/bgworkerd"
MODULE="$OUT/bgw_bench_worker.so"

if [ ! -x "$DAEMON" ] || [ ! -e "$REL/libbgworker.so" ]; then
    (cd "$ROOT" && cargo build --release)
fi
# shellcheck source=bench/pids.sh
. "$ROOT/bench/pids.sh"
build_worker_and_scale
bench_pids_scratch bgw-scale INT bgworkerd.log bgworkerd

# start_daemon NAME SLOTS: starts bgworkerd on $RUNDIR/NAME; its pid is
# appended to PIDS.
start_daemon() {
    local dir="$RUNDIR/$1" pid
    mkdir -p "$dir"
    "$DAEMON" -D "$dir" -c max_worker_processes="$2" \
        -c shared_preload_libraries="$MODULE" 2>"$dir/bgworkerd.log" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 100); do
        grep -qs 'bgworkerd ready' "$dir/bgworkerd.log" && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "bench/scale.sh: bgworkerd ($1) exited before it was ready" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "bench/scale.sh: bgworkerd ($1) not ready after 10 s" >&2
    exit 1
}

echo "bench-scale: bgworkerd with $SMALL and $BIG slots, $ROUNDS rounds ..." >&2
echo "# host: $(uname -srm), $(nproc) cpus"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)   (other load skews results)"
echo "# libbgworker $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '(no commit)')"
start_daemon small "$SMALL"
start_daemon big "$BIG"
"$OUT/bgw_scale" -s "$RUNDIR/small" -p "${PIDS[0]}" -m "$SMALL" \
    -S "$RUNDIR/big" -P "${PIDS[1]}" -M "$BIG" -l "$MODULE" \
    -R "$ROUNDS" -n "$LAT_N" -c "$CHURN_N" -C "$CHURN_CONC" -k "$BURST_K" -a "$ALL_K"
stop_pids
for d in small big; do
    if grep -Eq 'WARNING|ERROR|FATAL|PANIC' "$RUNDIR/$d/bgworkerd.log"; then
        echo "# bgworkerd ($d) log had warnings/errors:"
        grep -E 'WARNING|ERROR|FATAL|PANIC' "$RUNDIR/$d/bgworkerd.log" | head -10 | sed 's/^/#   /'
    fi
done
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
trap - EXIT
stop_pids
rm -rf "$RUNDIR"

# launch latency when the process workers are forked from is big
[ "${SKIP_BIGHOST:-0}" = 1 ] || ROUNDS="$ROUNDS" PG_CONFIG="$PG_CONFIG" CC="$CC" bash "$ROOT/bench/bighost.sh"
