#!/usr/bin/env bash
# tests/check-asan.sh - `make check-asan`: the tests that run C code (host
# programs and modules) and the lifecycle tests, with every C file the tests
# build compiled under AddressSanitizer and UndefinedBehaviorSanitizer.
#
# The C side is instrumented through BGW_TEST_CFLAGS (tests/common/mod.rs
# adds it to every C build and keeps those builds apart from the usual
# ones).  bgworkerd, libbgworker and the test binaries are not instrumented,
# but they load instrumented modules with dlopen(), and ASan's runtime must
# be the first library of a process: so every process runs with
# LD_PRELOAD=$(cc -print-file-name=libasan.so), set here for the test run
# and inherited by bgworkerd, its workers and the host programs.  Leak
# detection is off: a non-instrumented daemon's allocations are not the C
# side's to answer for.
#
# Left out: the tests that run the same module under a real PostgreSQL 15
# server to compare (PostgreSQL's own programs do not run with the ASan
# runtime preloaded: initdb hangs on `postgres -V`), and the census of
# module symbols (instrumented modules also need __asan_* symbols); make
# test runs them uninstrumented. SIGSEGV and abort are left to the
# kernel (handle_segv=0, handle_abort=0): lifecycle tests crash workers on
# purpose and expect the signal.
#
# ASan's reports go to log files (log_path), UBSan's to the processes'
# stderr, which the tests echo (--nocapture) into a file that is searched;
# the check fails if any test fails or any report was written.
set -uo pipefail
cd "$(dirname "$0")/.."
CARGO="${CARGO:-cargo}"
CC="${CC:-cc}"
PARTS=(${ASAN_PARTS:-host_embed bad_input compat compat_shmem lifecycle containment death supervision fork_server dataplane dsa dshash})
# Left out: the module-symbol census (instrumented modules reference the
# sanitizer runtimes), and every test that runs a real PostgreSQL server to
# compare with: they have "postgresql" in their names (tests/common/pg.rs
# refuses to start a server under the ASan runtime, so a misnamed one fails).
SKIP=(
    census_every_module_symbol_is_exported
    postgresql
)
skip_args=()
for t in "${SKIP[@]}"; do
    skip_args+=(--skip "$t")
done

ASAN_RT="$("$CC" -print-file-name=libasan.so)"
if [ ! -e "$ASAN_RT" ]; then
    echo "check-asan: $CC has no AddressSanitizer runtime (libasan.so)"
    exit 1
fi

echo "=== build"
"$CARGO" test --release --workspace --no-run || exit 1

# Reports from processes run as other users (postgres, nobody) land here too.
LOGS="$(mktemp -d "${TMPDIR:-/tmp}/bgw-asan.XXXXXX")"
chmod 1777 "$LOGS"
trap 'rm -rf "$LOGS"' EXIT

export BGW_TEST_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g"
export ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_abort=0:log_path=$LOGS/asan:log_exe_name=1"
export UBSAN_OPTIONS="print_stacktrace=1"

failed=()
start=$SECONDS
for part in "${PARTS[@]}"; do
    echo "=== $part (ASan + UBSan)"
    t0=$SECONDS
    # --nocapture: the tests echo every line their processes write, where
    # UBSan's reports go (with ASan's runtime present it ignores log_path).
    LD_PRELOAD="$ASAN_RT" "$CARGO" test --release --test "$part" -- --test-threads=2 \
        --nocapture "${skip_args[@]}" >"$LOGS/$part.out" 2>&1
    rc=$?
    grep -E '^test |^test result|^---- |panicked at' "$LOGS/$part.out"
    if [ $rc = 0 ]; then
        r=ok
    else
        r=FAILED
        failed+=("$part")
        tail -100 "$LOGS/$part.out"
    fi
    if grep -qE 'runtime error:|Sanitizer' "$LOGS/$part.out"; then
        echo "check-asan: sanitizer output in $part:"
        grep -E -A12 'runtime error:|Sanitizer' "$LOGS/$part.out" | head -80
        failed+=("$part-reports")
    fi
    printf -- '--- %-16s %-7s %dm%02ds\n' "$part" "$r" $(((SECONDS - t0) / 60)) $(((SECONDS - t0) % 60))
done

reports=("$LOGS"/asan*)
if [ -e "${reports[0]}" ]; then
    echo "check-asan: sanitizer reports (${#reports[@]}):"
    for f in "${reports[@]}"; do
        echo "--- $(basename "$f")"
        head -60 "$f"
    done
    failed+=("reports")
fi
echo "check-asan: $(((SECONDS - start) / 60))m$(((SECONDS - start) % 60))s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "check-asan: FAILED: ${failed[*]}"
    exit 1
fi
echo "check-asan: clean"
