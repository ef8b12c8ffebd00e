#!/usr/bin/env bash
# bench/bighost.sh - launch latency when the process workers are forked
# from is big (part of `make bench-scale`).
#
#  1. An embedding host: bench/bgw_bighost.c, a program that writes a heap
#     of HEAP_MB (200) MB and then runs the supervisor itself
#     (bgw_host_run), beside the same program with no heap. bgw_scale
#     alternates between the two round by round (-H) and prints the start
#     latency of each and their ratio against the 1.5x target: first with
#     the supervisor in the host's process (the default), then with the
#     big host's fork server (bgw_host_start_fork_server before the heap).
#  2. A daemon whose preloaded module allocates FAT_MB (200) MB in
#     _PG_init: bench/run.sh with FAT_MB set (fewer figures), bgworkerd and
#     PostgreSQL 15 side by side. Under both, workers inherit what _PG_init
#     set up, so each fork copies that heap's page tables: no target, the
#     two are reported together.
#
# Knobs (environment): HEAP_MB (200), FAT_MB (200), ROUNDS (5), LAT_N (50),
# CHURN_N (200), BURST_K (100), SKIP_FAT (0: 1 leaves part 2 out),
# PG_CONFIG, CC. Part 2 runs FAT_ROUNDS (3) rounds of FAT_LAT_N (20)
# latencies, a churn of FAT_CHURN_N (50) with 1 outstanding and a burst of
# FAT_BURST_K (20): every fork there copies 200 MB of page tables, in
# PostgreSQL as well, whose part is bounded by PG_TIMEOUT_S (900).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HEAP_MB="${HEAP_MB:-200}"
FAT_MB="${FAT_MB:-200}"
ROUNDS="${ROUNDS:-5}"
LAT_N="${LAT_N:-50}"
CHURN_N="${CHURN_N:-200}"
BURST_K="${BURST_K:-100}"
SKIP_FAT="${SKIP_FAT:-0}"
PG_CONFIG="${PG_CONFIG:-pg_config}"
CC="${CC:-cc}"
TMP="${TMPDIR:-/tmp}"
SLOTS=256

REL="$ROOT/target/release"
OUT="$ROOT/target/bench"
MODULE="$OUT/bgw_bench_worker.so"

if [ ! -e "$REL/libbgworker_pg.so" ] || [ ! -e "$REL/libbgworker.so" ]; then
    (cd "$ROOT" && cargo build --release)
fi
# shellcheck source=bench/pids.sh
. "$ROOT/bench/pids.sh"
build_worker_and_scale
# The host loads a PostgreSQL module: it links the library with the whole
# PostgreSQL surface (libbgworker_pg), as README "Attaching and embedding" says.
"$CC" -O2 -Wall -Wextra -Werror -I"$ROOT/include" \
    -o "$OUT/bgw_bighost" "$ROOT/bench/bgw_bighost.c" \
    -L"$REL" -lbgworker_pg -Wl,-rpath,"$REL"
bench_pids_scratch bgw-bighost TERM host.log host

# start_host NAME HEAP_MB [-f]: bgw_bighost on $RUNDIR/NAME; pid appended
# to PIDS (with -f, the pid of its fork server, which runs the supervisor)
start_host() {
    local dir="$RUNDIR/$1" pid
    rm -rf "$dir"
    mkdir -p "$dir"
    "$OUT/bgw_bighost" ${3:+"$3"} "$dir" "$2" "$SLOTS" "$MODULE" 2>"$dir/host.log" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 300); do
        grep -qs 'bgworkerd ready' "$dir/host.log" && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "bench/bighost.sh: host ($1) exited before it was ready" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "bench/bighost.sh: host ($1) not ready after 30 s" >&2
    exit 1
}

# pair LABEL [-f]: the small host against the big one (-f: with a fork server)
pair() {
    local label="$1" sup
    start_host small 0
    start_host big "$HEAP_MB" ${2:+"$2"}
    sup="$(head -1 "$RUNDIR/big/bgworkerd.pid")"
    echo "# host RSS: $(awk '/^VmRSS/ {print $2}' "/proc/${PIDS[0]}/status") kB (no heap), $(awk '/^VmRSS/ {print $2}' "/proc/${PIDS[1]}/status") kB (${HEAP_MB} MB heap); the big host's supervisor runs in pid $sup ($(awk '/^VmRSS/ {print $2}' "/proc/$sup/status") kB)"
    "$OUT/bgw_scale" -H -s "$RUNDIR/small" -p "${PIDS[0]}" -m "$SLOTS" -x host_0mb \
        -S "$RUNDIR/big" -P "$sup" -M "$SLOTS" -X "$label" -l "$MODULE" \
        -R "$ROUNDS" -n "$LAT_N" -c "$CHURN_N" -C "1 8" -k "$BURST_K" |
        grep -v '^supervisor_rss'
    stop_pids
}

echo "bench-scale: embedding hosts with 0 and $HEAP_MB MB heaps, $ROUNDS rounds ..." >&2
echo "# 1a. an embedding host running the supervisor in its own process, with a ${HEAP_MB} MB heap and with none"
echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
pair "host_${HEAP_MB}mb"
echo "# 1b. the same, the ${HEAP_MB} MB host with a fork server started before its heap (bgw_host_start_fork_server)"
pair "host_${HEAP_MB}mb_fork_server" -f

if [ "$SKIP_FAT" != 1 ]; then
    echo "bench-scale: a daemon whose module allocates $FAT_MB MB in _PG_init, and PostgreSQL 15 ..." >&2
    echo "# 2. bgworkerd and PostgreSQL 15, each with a preloaded module that writes $FAT_MB MB in _PG_init"
    echo "#    (workers inherit it under both; no target)"
    FAT_MB="$FAT_MB" ROUNDS="${FAT_ROUNDS:-3}" LAT_N="${FAT_LAT_N:-20}" \
        CHURN_N="${FAT_CHURN_N:-50}" CHURN_CONC="1" BURST_K="${FAT_BURST_K:-20}" \
        PG_TIMEOUT_S="${PG_TIMEOUT_S:-900}" PG_CONFIG="$PG_CONFIG" CC="$CC" bash "$ROOT/bench/run.sh" |
        grep -E '^#|^(floor_fork_rate|floor_rtt_pipe_p50|latency_start_p50|latency_start_p99|latency_stop_p50|latency_main_entry_p50|churn_c1_rate|burst_k[0-9]+_all_started|bgworkerd_rss|ratio_latency_start)'
fi
