#!/usr/bin/env bash
# tests/run-suite.sh - the test suite as `make test` runs it.
#
# Builds the tests once, then runs each part on its own -- the unit tests,
# every tests/*.rs file, the doc tests -- printing each part's time, and
# carries on after a failing part so one run reports them all.  Last, it
# fails if the suite left anything behind: entries in the temporary
# directory, files in /dev/shm (bgworkerd's segments, PostgreSQL's
# PostgreSQL.* segments) or System V shared memory.
#
# As root (where unshare(1) works) the suite runs in private mount and IPC
# namespaces with an empty tmpfs on /dev/shm and on /tmp (when neither the
# checkout nor CARGO_TARGET_DIR is under /tmp): whatever is there at the end
# was left by the suite, and nothing reaches the machine's own /tmp or
# /dev/shm even when a test fails half-way.  Elsewhere it compares listings
# taken before and after, and counts a new entry that no live process still
# has open or mapped (another user's running program) as left behind.
#
# usage: tests/run-suite.sh [TEST-NAME...]     (default: every part)
#   TEST-NAME is "unit", "doc" or the stem of a tests/*.rs file.
# env:   CARGO (cargo), TEST_THREADS (2), BGW_SUITE_NO_ISOLATION=1
set -uo pipefail

cd "$(dirname "$0")/.."
CARGO="${CARGO:-cargo}"
THREADS="${TEST_THREADS:-2}"

# --- isolation ---------------------------------------------------------------
under_tmp() {
    case "$(cd "$1" 2>/dev/null && pwd -P)/" in /tmp/*) return 0 ;; esac
    return 1
}

if [ "${BGW_SUITE_ISOLATED:-0}" != 1 ] && [ "${BGW_SUITE_NO_ISOLATION:-0}" != 1 ] &&
    [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
    unshare --mount --ipc --propagation private -- \
        mount -t tmpfs -o mode=1777 bgw-suite-probe /dev/shm 2>/dev/null; then
    # (the probe's mount lives and dies in its own namespace)
    exec env BGW_SUITE_ISOLATED=1 unshare --mount --ipc --propagation private -- \
        bash "$0" "$@"
fi

isolated=0
if [ "${BGW_SUITE_ISOLATED:-0}" = 1 ]; then
    mount -t tmpfs -o mode=1777 bgw-suite-shm /dev/shm || exit 1
    if ! under_tmp . && { [ -z "${CARGO_TARGET_DIR:-}" ] || ! under_tmp "$CARGO_TARGET_DIR"; }; then
        mount -t tmpfs -o mode=1777 bgw-suite-tmp /tmp || exit 1
        export TMPDIR=/tmp
        isolated=1
    fi
fi
TMP="${TMPDIR:-/tmp}"
echo "test suite: $([ $isolated = 1 ] && echo "private /tmp, /dev/shm and IPC namespace" ||
    { [ "${BGW_SUITE_ISOLATED:-0}" = 1 ] && echo "private /dev/shm and IPC namespace; $TMP compared before/after" ||
        echo "/dev/shm and $TMP compared before/after"; })"

listing() {
    ls -A1 /dev/shm 2>/dev/null | sed 's|^|/dev/shm/|'
    ls -A1 "$TMP" 2>/dev/null | sed "s|^|$TMP/|"
    ipcs -m 2>/dev/null | awk '$1 ~ /^0x/ {print "sysv-shm key " $1 " id " $2 " owner " $3}'
}

# true when some live process has `path` open or mapped
in_use() {
    local path=$1 p
    for p in /proc/[0-9]*; do
        if grep -qsF " $path" "$p/maps" 2>/dev/null; then return 0; fi
        if ls -l "$p/fd" 2>/dev/null | grep -qF -- "-> $path"; then return 0; fi
    done
    return 1
}

before="$(listing | sort)"

# --- the parts ---------------------------------------------------------------
parts=("$@")
if [ ${#parts[@]} -eq 0 ]; then
    parts=(unit)
    for f in tests/*.rs; do
        parts+=("$(basename "$f" .rs)")
    done
    parts+=(doc)
fi

fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

suite_start=$SECONDS
echo "=== build"
if ! "$CARGO" test --release --workspace --no-run; then
    echo "test suite: the tests do not build"
    exit 1
fi
echo "--- build: $(fmt_time $((SECONDS - suite_start)))"

failed=()
summary=()
for part in "${parts[@]}"; do
    case "$part" in
        unit) args=(--workspace --lib --bins) ;;
        doc) args=(--workspace --doc) ;;
        *) args=(--test "$part") ;;
    esac
    echo "=== $part"
    t0=$SECONDS
    if "$CARGO" test --release "${args[@]}" -- --test-threads="$THREADS"; then
        result=ok
    else
        result=FAILED
        failed+=("$part")
    fi
    line="$(printf '%-16s %-7s %s' "$part" "$result" "$(fmt_time $((SECONDS - t0)))")"
    summary+=("$line")
    echo "--- $line"
done

# --- leftovers -----------------------------------------------------------------
sleep 1 # processes killed by the last test may still be unmapping
after="$(listing | sort)"
left=()
while IFS= read -r e; do
    [ -n "$e" ] || continue
    case "$e" in
        sysv-shm*) left+=("$e") ;;
        *)
            if [ $isolated = 1 ]; then
                left+=("$e")
            elif [ "${BGW_SUITE_ISOLATED:-0}" = 1 ] && [[ $e == /dev/shm/* ]]; then
                left+=("$e")
            elif ! in_use "$e"; then
                left+=("$e")
            fi
            ;;
    esac
done < <(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))

echo
echo "=== test suite summary"
for l in "${summary[@]}"; do echo "  $l"; done
echo "  total            $(fmt_time $((SECONDS - suite_start)))"
if [ ${#left[@]} -gt 0 ]; then
    echo "test suite: left behind (${#left[@]}):"
    for e in "${left[@]}"; do
        echo "  $e"
        case "$e" in sysv-shm*) ;; *) ls -ld "$e" 2>/dev/null | sed 's/^/    /' ;; esac
    done
    failed+=("leftovers")
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "test suite: FAILED: ${failed[*]}"
    exit 1
fi
echo "test suite: all passed, nothing left behind"
