#!/usr/bin/env bash
# soak/run.sh - the soak and the segment fuzz (`make soak`; see soak/soak.c).
#
# Builds the worker module (bench/bgw_bench_worker.c, PGXS flags) and the
# soak program (soak/soak.c, linked with libbgworker) into target/soak/,
# then runs it in its own session under a watchdog: if it outlives
# TIME_LIMIT_S + 180 s, its whole session (bgworkerd, hosts, decoys, workers)
# is SIGKILLed by process group, and the run fails. Everything it made is
# removed; the check at the end fails the run if one of its bgworkerds left
# its segment in /dev/shm (and removes it).
#
# Knobs (environment): SOAK_CYCLES (100000), FUZZ_MUTATIONS (1000000),
# TIME_LIMIT_S (480: the soak's cycles must be done by then), SOAK_SEED
# (random), SOAK_SHORT=1 (5,000 cycles and 100,000 mutations, TIME_LIMIT_S
# 90: what .ci/run runs), PG_CONFIG, CC.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${SOAK_SHORT:-0}" = 1 ]; then
    SOAK_CYCLES="${SOAK_CYCLES:-5000}"
    FUZZ_MUTATIONS="${FUZZ_MUTATIONS:-100000}"
    TIME_LIMIT_S="${TIME_LIMIT_S:-90}"
fi
SOAK_CYCLES="${SOAK_CYCLES:-100000}"
FUZZ_MUTATIONS="${FUZZ_MUTATIONS:-1000000}"
TIME_LIMIT_S="${TIME_LIMIT_S:-480}"
PG_CONFIG="${PG_CONFIG:-pg_config}"
CC="${CC:-cc}"
TMP="${TMPDIR:-/tmp}"
REL="$ROOT/target/release"
OUT="$ROOT/target/soak"

if [ ! -x "$REL/bgworkerd" ] || [ ! -e "$REL/libbgworker.so" ]; then
    (cd "$ROOT" && cargo build --release)
fi
mkdir -p "$OUT"
# shellcheck disable=SC2046  # pg_config prints several flags on purpose
"$CC" $("$PG_CONFIG" --cppflags) $("$PG_CONFIG" --cflags) $("$PG_CONFIG" --cflags_sl) \
    -isystem "$("$PG_CONFIG" --includedir-server)" -Wall -Wextra -Werror \
    -I"$ROOT/bench" -shared -o "$OUT/bgw_bench_worker.so" "$ROOT/bench/bgw_bench_worker.c"
"$CC" -O2 -Wall -Wextra -Werror -I"$ROOT/include" -o "$OUT/soak" "$ROOT/soak/soak.c" \
    -L"$REL" -lbgworker -Wl,-rpath,"$REL"

SCRATCH="$(mktemp -d "$TMP/bgw-soak.XXXXXX")"
SPID=""
cleanup() {
    local rc=$?
    if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
        kill -KILL -- "-$SPID" 2>/dev/null || true
        wait "$SPID" 2>/dev/null || true
    fi
    if [ "$rc" != 0 ] && [ -s "$SCRATCH/bgworkerd.log" ]; then
        echo "# bgworkerd log (last 30 lines):"
        tail -30 "$SCRATCH/bgworkerd.log" | sed 's/^/#   /'
    fi
    rm -rf "$SCRATCH"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# soak: $SOAK_CYCLES cycles, $FUZZ_MUTATIONS segment writes, limit ${TIME_LIMIT_S} s;" \
    "$(nproc) cpus, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
start=$SECONDS
setsid "$OUT/soak" "$REL/bgworkerd" "$OUT/bgw_bench_worker.so" "$SCRATCH" \
    "$SOAK_CYCLES" "$FUZZ_MUTATIONS" "$TIME_LIMIT_S" &
SPID=$!
limit=$((TIME_LIMIT_S + 180))
while kill -0 "$SPID" 2>/dev/null; do
    if [ $((SECONDS - start)) -ge "$limit" ]; then
        echo "soak: FAIL: watchdog: still running after $limit s; its session is killed"
        kill -KILL -- "-$SPID" 2>/dev/null || true
    fi
    sleep 0.5
done
rc=0
wait "$SPID" || rc=$?
sid=$SPID
SPID=""
echo "soak_total_seconds $((SECONDS - start)) s"

# Nothing of its session may outlive it (workers of a killed bgworkerd and
# sentinels end within moments; wait a little for them).
session_left() { ps -e -o pid=,sid= | awk -v s="$sid" '$2 == s {print $1}'; }
for _ in $(seq 50); do
    [ -z "$(session_left)" ] && break
    sleep 0.1
done
stray="$(session_left)"
if [ -n "$stray" ]; then
    echo "soak: FAIL: processes of the run still there after it: $(echo $stray)"
    for p in $stray; do kill -KILL "$p" 2>/dev/null || true; done
    rc=1
fi

# Nothing of it may be left: no segment of its bgworkerds, no process in
# its session.
left=0
if ls "$SCRATCH/run"/bgworkerd.pid >/dev/null 2>&1; then
    echo "# left: $SCRATCH/run/bgworkerd.pid"
    left=1
fi
for seg in $(grep -ho 'segment /bgworker\.[0-9.]*' "$SCRATCH/bgworkerd.log" 2>/dev/null | awk '{print $2}' | sort -u); do
    if [ -e "/dev/shm$seg" ]; then
        # (a bgworkerd the run had to SIGKILL): reported, then removed
        echo "# left: /dev/shm$seg (removed now)"
        rm -f "/dev/shm$seg"
        left=1
    fi
done
if [ "$left" != 0 ]; then
    echo "soak: FAIL: files left behind"
    rc=1
fi
exit "$rc"
