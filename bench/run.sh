#!/usr/bin/env bash
# bench/run.sh - libbgworker benchmark (`make bench`).
#
# Builds the worker module (bgw_bench_worker.c, with PGXS compiler flags) and
# the host program (bgw_bench.c, linked with libbgworker) into target/bench/,
# starts target/release/bgworkerd on a scratch run directory with the module
# preloaded (like PRELOAD=1 in the PostgreSQL 15 anchor), runs bgw_bench,
# then stops the daemon with a fast shutdown (SIGINT) and removes the run
# directory.
#
# Output: "name value unit" lines, '#' lines are context; the metric names
# and definitions are those of the PostgreSQL 15 anchor (bench-pg15), and the
# floor_* lines are this machine's fork / pipe floor measured by bgw_bench in
# the same run.
#
# Knobs (environment): LAT_N (200), CHURN_N (2000), CHURN_CONC ("1 8 64"),
# BURST_K (200), MAX_WORKERS (256), FLOOR_SCALE (1), SKIP_FLOOR (0),
# PG_CONFIG (pg_config), CC (cc).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LAT_N="${LAT_N:-200}"
CHURN_N="${CHURN_N:-2000}"
CHURN_CONC="${CHURN_CONC:-1 8 64}"
BURST_K="${BURST_K:-200}"
MAX_WORKERS="${MAX_WORKERS:-256}"
FLOOR_SCALE="${FLOOR_SCALE:-1}"
SKIP_FLOOR="${SKIP_FLOOR:-0}"
PG_CONFIG="${PG_CONFIG:-pg_config}"
CC="${CC:-cc}"

REL="$ROOT/target/release"
OUT="$ROOT/target/bench"
DAEMON="$REL/bgworkerd"
MODULE="$OUT/bgw_bench_worker.so"

if [ ! -x "$DAEMON" ] || [ ! -e "$REL/libbgworker.so" ]; then
    (cd "$ROOT" && cargo build --release)
fi

# --- build -----------------------------------------------------------------
mkdir -p "$OUT"
# shellcheck disable=SC2046  # pg_config prints several flags on purpose
"$CC" $("$PG_CONFIG" --cppflags) $("$PG_CONFIG" --cflags) $("$PG_CONFIG" --cflags_sl) \
    -I"$("$PG_CONFIG" --includedir-server)" -shared \
    -o "$MODULE" "$ROOT/bench/bgw_bench_worker.c"
"$CC" -O2 -Wall -Wextra -I"$ROOT/include" -I"$ROOT/bench" \
    -o "$OUT/bgw_bench" "$ROOT/bench/bgw_bench.c" \
    -L"$REL" -lbgworker -Wl,-rpath,"$REL" -lm

# --- daemon ----------------------------------------------------------------
RUNDIR="$(mktemp -d /tmp/bgw-bench.XXXXXX)"
LOG="$RUNDIR/bgworkerd.log"
DPID=""

cleanup() {
    local rc=$?
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        kill -INT "$DPID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$DPID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$DPID" 2>/dev/null || true
        wait "$DPID" 2>/dev/null || true
    fi
    if [ "$rc" != 0 ] && [ -s "$LOG" ]; then
        echo "# bgworkerd log (last 20 lines):" >&2
        tail -20 "$LOG" | sed 's/^/#   /' >&2
    fi
    rm -rf "$RUNDIR"
    exit "$rc"
}
trap cleanup EXIT

echo "# host: $(uname -srm), $(nproc) cpus, THP=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo n/a)"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)   (other load skews results)"
echo "# libbgworker $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '(no commit)'), module built with $("$PG_CONFIG" --version)"

"$DAEMON" -D "$RUNDIR" \
    -c max_worker_processes="$MAX_WORKERS" \
    -c shared_preload_libraries="$MODULE" \
    2>"$LOG" &
DPID=$!

for _ in $(seq 100); do
    grep -q 'bgworkerd ready' "$LOG" && break
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

echo "# preload: 1"
echo "max_worker_processes $MAX_WORKERS count"
echo "bgworkerd_rss $(awk '/^VmRSS/ {print $2}' "/proc/$DPID/status") kB"

args=(-D "$RUNDIR" -l "$MODULE" -n "$LAT_N" -c "$CHURN_N" -C "$CHURN_CONC"
      -k "$BURST_K" -m "$MAX_WORKERS" -f "$FLOOR_SCALE")
[ "$SKIP_FLOOR" = 1 ] && args+=(-F)
"$OUT/bgw_bench" "${args[@]}"

# --- fast shutdown ---------------------------------------------------------
kill -INT "$DPID"
drc=0
wait "$DPID" || drc=$?
DPID=""
if [ "$drc" != 0 ]; then
    echo "# bgworkerd exited with status $drc after SIGINT"
fi

# surface anything unexpected the daemon logged (>= WARNING)
if grep -Eq 'WARNING|ERROR|FATAL|PANIC' "$LOG"; then
    echo "# bgworkerd log had warnings/errors:"
    grep -E 'WARNING|ERROR|FATAL|PANIC' "$LOG" | head -20 | sed 's/^/#   /'
fi
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
