#!/usr/bin/env bash
# bench/death.sh - how soon a waiter learns that bgworkerd was SIGKILLed
# (part of `make bench`; run.sh calls it, or run it alone).
#
# c-tests/death_host.c starts bgworkerd DEATH_N times (60), each time parks
# a thread of an attached host in WaitForBackgroundWorkerShutdown on a
# sleeping worker (bgw_bench_worker.so, arg 1), SIGKILLs bgworkerd and times
# the waiter's return with BGWH_POSTMASTER_DIED. Prints "name value unit"
# lines: death_detect_p50/_p99/_max (ms) and, beside them, the target
# (p99 <= 5 ms); leftover_processes counts workers or sentinels that
# outlived their bgworkerd (must be 0). PostgreSQL has no such figure: a
# backend learns of the postmaster's death from its own death pipe.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEATH_N="${DEATH_N:-60}"
CC="${CC:-cc}"
TMP="${TMPDIR:-/tmp}"
REL="$ROOT/target/release"
OUT="$ROOT/target/bench"
MODULE="$OUT/bgw_bench_worker.so"

if [ ! -f "$MODULE" ]; then
    echo "bench/death.sh: $MODULE is missing: run bench/run.sh (make bench) first" >&2
    exit 1
fi
mkdir -p "$OUT"
"$CC" -O2 -Wall -Wextra -Werror -pthread -I"$ROOT/include" \
    -o "$OUT/death_host" "$ROOT/c-tests/death_host.c" \
    -L"$REL" -lbgworker -Wl,-rpath,"$REL"

SCRATCH="$(mktemp -d "$TMP/bgw-bench-death.XXXXXX")"
HPID=""
cleanup() {
    # death_host ends every bgworkerd it started; if it is itself stuck,
    # its process group goes (it is the leader: started with setsid).
    if [ -n "$HPID" ] && kill -0 "$HPID" 2>/dev/null; then
        kill -KILL -- "-$HPID" 2>/dev/null || true
    fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setsid "$OUT/death_host" "$ROOT/target/release/bgworkerd" "$SCRATCH" "$MODULE" \
    bench_worker_main 1 "" "$DEATH_N" >"$SCRATCH/out.txt" 2>&1 &
HPID=$!
# watchdog: 3 s a round is far more than a round takes
deadline=$((SECONDS + DEATH_N * 3 + 30))
while kill -0 "$HPID" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "# death_host hung: killed after $((DEATH_N * 3 + 30)) s"
        kill -KILL -- "-$HPID" 2>/dev/null || true
    fi
    sleep 0.2
done
rc=0
wait "$HPID" || rc=$?
HPID=""
if [ "$rc" != 0 ]; then
    echo "# death_host failed (status $rc):"
    grep -v '^round ' "$SCRATCH/out.txt" | sed 's/^/#   /'
    exit 1
fi
echo "# dead-supervisor detection: $DEATH_N SIGKILLs of bgworkerd, one parked waiter each"
grep -E '^death_detect_|^death_rounds |^leftover_processes ' "$SCRATCH/out.txt"
echo "death_detect_p99_target 5 ms"
awk '$1 == "death_detect_p99" {
    printf "#   death_detect_p99 (ms) %s <= 5    %s\n", $2, ($2 <= 5 ? "met" : "missed")
}' "$SCRATCH/out.txt"
echo "# loadavg: $(cut -d' ' -f1-3 /proc/loadavg) (the tail is scheduling: it grows with the load)"
