# bench/pids.sh -- sourced by bench/scale.sh and bench/bighost.sh: the
# benchmark worker module and the bgw_scale driver they both build, and the
# scratch run directory with the processes they start in it (a small and a
# big one), stopped and removed at exit.
#
# The sourcing script sets ROOT, REL, OUT, MODULE, CC, PG_CONFIG and TMP
# first. Then:
#   build_worker_and_scale   builds MODULE (bench/bgw_bench_worker.c, with
#                            PGXS flags) and OUT/bgw_scale;
#   bench_pids_scratch PREFIX SIGNAL LOG WHAT
#                            makes RUNDIR, an empty PIDS, and the EXIT trap
#                            that stops every pid in PIDS (SIGNAL, then
#                            SIGKILL after 10 s), prints the last lines of
#                            RUNDIR/{small,big}/LOG (named WHAT) when the
#                            script fails, and removes RUNDIR;
#   stop_pids                stops the PIDS now (idempotent).

build_worker_and_scale() {
    mkdir -p "$OUT"
    # shellcheck disable=SC2046  # pg_config prints several flags on purpose
    "$CC" $("$PG_CONFIG" --cppflags) $("$PG_CONFIG" --cflags) $("$PG_CONFIG" --cflags_sl) \
        -isystem "$("$PG_CONFIG" --includedir-server)" -Wall -Wextra -Werror -I"$ROOT/bench" \
        -shared -o "$MODULE" "$ROOT/bench/bgw_bench_worker.c"
    "$CC" -O2 -Wall -Wextra -Werror -I"$ROOT/include" -I"$ROOT/bench" \
        -o "$OUT/bgw_scale" "$ROOT/bench/bgw_scale.c" \
        -L"$REL" -lbgworker -Wl,-rpath,"$REL" -lm
}

stop_pids() {
    local p
    for p in "${PIDS[@]}"; do
        kill "-$PIDS_SIGNAL" "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 100); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    PIDS=()
}

pids_cleanup() {
    local rc=$?
    stop_pids
    if [ "$rc" != 0 ]; then
        for d in small big; do
            if [ -s "$RUNDIR/$d/$PIDS_LOG" ]; then
                echo "# $PIDS_WHAT ($d) log (last 10 lines):" >&2
                tail -10 "$RUNDIR/$d/$PIDS_LOG" | sed 's/^/#   /' >&2
            fi
        done
    fi
    rm -rf "$RUNDIR"
    exit "$rc"
}

bench_pids_scratch() {
    RUNDIR="$(mktemp -d "$TMP/$1.XXXXXX")"
    PIDS=()
    PIDS_SIGNAL="$2"
    PIDS_LOG="$3"
    PIDS_WHAT="$4"
    trap pids_cleanup EXIT
    trap 'exit 130' INT TERM
}
