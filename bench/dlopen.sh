#!/usr/bin/env bash
# bench/dlopen.sh - what a module's PostgreSQL symbol references cost at
# load time: dlopen(RTLD_NOW) of generated modules (`make bench-dlopen`).
#
# The modules (generated under target/bench-dlopen/, compiled with PGXS
# compiler flags, no PostgreSQL headers: every reference is declared as
# `extern void NAME(void)` and called, or `extern char NAME` and its address
# taken, so functions bind through the PLT and variables through the GOT, as
# in a module built with PGXS):
#   none        references nothing of PostgreSQL (dlopen's fixed cost)
#   today_all   every PostgreSQL name bgworkerd exports (N distinct)
#   today_1000  1,000 data references to those names, round robin (1,000
#               symbol lookups over the N distinct names: bgworkerd does not
#               export 1,000 PostgreSQL names yet)
#   pg_1000     1,000 distinct PostgreSQL names: those bgworkerd exports plus
#               a fixed selection of the others from exports/pg15/postgres.symbols
#               (every k-th, in name order). It loads only where all of them are
#               exported; where they are not, it is measured a second time as
#               pg_1000_standin, with a generated stand-in library
#               (dlopen_standin.so: empty functions and zeroed variables of the
#               real sizes, for the names bgworkerd lacks) opened RTLD_GLOBAL
#               first: its figure is the lookup cost of 1,000 distinct names,
#               not a claim that those names are provided; and in the C host
#               once more as pg_1000_exe, with the stand-in names defined in
#               the host executable itself (first in the lookup scope, where
#               bgworkerd's own exports are).
#
# Two contexts, each measured ITERATIONS times per module (open, close, check
# it was unloaded): a plain C host linked with libbgworker.so (dlopen_host),
# and inside bgworkerd, where modules really load (dlopen_probe.so preloaded;
# its _PG_init measures and logs; bgworkerd is then stopped with SIGINT, by
# pid, under a watchdog). Output: "context module N_refs median_us ..." lines.
#
# Knobs (environment): ITERATIONS (300), PG_CONFIG, CC (cc).
set -euo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ITERATIONS="${ITERATIONS:-300}"
PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
CC="${CC:-cc}"
REL="$ROOT/target/release"
OUT="$ROOT/target/bench-dlopen"
SYMS="$ROOT/exports/pg15/postgres.symbols"
DAEMON="$REL/bgworkerd"

[ -x "$DAEMON" ] && [ -e "$REL/libbgworker.so" ] || (cd "$ROOT" && cargo build --release)
mkdir -p "$OUT"
# shellcheck disable=SC2046  # pg_config prints several flags on purpose
PGXS_CFLAGS=($("$PG_CONFIG" --cflags) $("$PG_CONFIG" --cflags_sl))

# --- symbol lists (NAME KIND SIZE) -----------------------------------------
awk '!/^#/' "$SYMS" >"$OUT/pg.list"
nm -D --defined-only "$DAEMON" | awk '{ print $3 }' | sed 's/@.*//' | sort -u >"$OUT/bgworkerd.defined"
join "$OUT/bgworkerd.defined" "$OUT/pg.list" >"$OUT/today.list"
n_today="$(wc -l <"$OUT/today.list")"
[ "$n_today" -gt 0 ] || { echo "bench/dlopen.sh: bgworkerd exports no PostgreSQL name" >&2; exit 1; }
if [ "$n_today" -ge 1000 ]; then
    head -1000 "$OUT/today.list" >"$OUT/pg1000.list"
    : >"$OUT/standin.list"
else
    join -v1 "$OUT/pg.list" "$OUT/today.list" >"$OUT/others.list"
    need=$((1000 - n_today))
    step=$(($(wc -l <"$OUT/others.list") / need))
    awk -v s="$step" -v n="$need" '(NR - 1) % s == 0 && c < n { print; c++ }' "$OUT/others.list" >"$OUT/standin.list"
    sort -m "$OUT/today.list" "$OUT/standin.list" >"$OUT/pg1000.list"
fi
[ "$(wc -l <"$OUT/pg1000.list")" = 1000 ] || { echo "bench/dlopen.sh: could not select 1000 names" >&2; exit 1; }

# --- generated modules --------------------------------------------------------
gen_module() { # LIST -> C source of a module referencing every name once
    awk '
        $2 == "F" { print "extern void " $1 "(void);"; f[++nf] = $1 }
        $2 == "V" { print "extern char " $1 ";"; v[++nv] = $1 }
        END {
            print "void bgw_dlopen_bench_calls(void);"
            print "void bgw_dlopen_bench_calls(void)\n{"
            for (i = 1; i <= nf; i++) print "\t" f[i] "();"
            print "}"
            print "long bgw_dlopen_bench_vars(void);"
            print "long bgw_dlopen_bench_vars(void)\n{\n\tlong s = 0;"
            for (i = 1; i <= nv; i++) print "\ts += (long) &" v[i] ";"
            print "\treturn s;\n}"
        }' "$1"
}
gen_refs() { # LIST COUNT -> C source of COUNT address references, round robin
    awk -v count="$2" '
        { print "extern char " $1 ";"; n[++k] = $1 }
        END {
            print "void *bgw_dlopen_bench_refs[" count "];"
            print "void *bgw_dlopen_bench_refs[" count "] = {"
            for (i = 0; i < count; i++) print "\t&" n[i % k + 1] ","
            print "};"
        }' "$1"
}
gen_standin() { # LIST -> C source defining every name
    awk '
        $2 == "F" { print "void " $1 "(void);\nvoid " $1 "(void) {}" }
        $2 == "V" { print "char " $1 "[" ($3 > 0 ? $3 : 1) "];" }' "$1"
}

: >"$OUT/none.list"
gen_module "$OUT/none.list" >"$OUT/none.c"
gen_module "$OUT/today.list" >"$OUT/today_all.c"
gen_refs "$OUT/today.list" 1000 >"$OUT/today_1000.c"
gen_module "$OUT/pg1000.list" >"$OUT/pg_1000.c"
gen_standin "$OUT/standin.list" >"$OUT/dlopen_standin.c"
for m in none today_all today_1000 pg_1000 dlopen_standin; do
    "$CC" "${PGXS_CFLAGS[@]}" -w -shared -o "$OUT/$m.so" "$OUT/$m.c"
done
"$CC" -O2 -Wall -Wextra -I"$ROOT/include" -I"$ROOT/bench" -o "$OUT/dlopen_host" "$ROOT/bench/dlopen_host.c" \
    -L"$REL" -Wl,--no-as-needed -lbgworker -Wl,-rpath,"$REL" -ldl
# The same host with the stand-in names in the executable itself (exported
# with --export-dynamic), first in the lookup scope, as bgworkerd's own.
"$CC" -O2 -Wall -Wextra -w -I"$ROOT/include" -I"$ROOT/bench" -o "$OUT/dlopen_host_exe" \
    "$ROOT/bench/dlopen_host.c" "$OUT/dlopen_standin.c" -Wl,--export-dynamic \
    -L"$REL" -Wl,--no-as-needed -lbgworker -Wl,-rpath,"$REL" -ldl
# shellcheck disable=SC2046
"$CC" $("$PG_CONFIG" --cppflags) "${PGXS_CFLAGS[@]}" -I"$("$PG_CONFIG" --includedir-server)" -I"$ROOT/bench" \
    -shared -o "$OUT/dlopen_probe.so" "$ROOT/bench/dlopen_probe.c"

relocs() { readelf -W -r "$1" | awk '/R_X86_64_(JUMP_SLOT|GLOB_DAT|64)/ && $5 != "" { n++ } END { print n + 0 }'; }
MODS="none=$OUT/none.so today_all=$OUT/today_all.so today_1000=$OUT/today_1000.so pg_1000=$OUT/pg_1000.so"
STANDIN_MODS="pg_1000_standin=$OUT/pg_1000.so"
declare -A REFS=([none]=0 [today_all]="$n_today distinct" [today_1000]="1000 refs/$n_today distinct"
                 [pg_1000]="1000 distinct" [pg_1000_standin]="1000 distinct ($(wc -l <"$OUT/standin.list") stand-in, RTLD_GLOBAL library)"
                 [pg_1000_exe]="1000 distinct ($(wc -l <"$OUT/standin.list") stand-in, in the executable)")

echo "# host: $(uname -srm), $(nproc) cpus; loadavg $(cut -d' ' -f1-3 /proc/loadavg) (other load skews results)"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ); libbgworker $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '(no commit)'); $(ldd --version | head -1)"
echo "# bgworkerd exports $(wc -l <"$OUT/bgworkerd.defined") dynamic symbols, $n_today of them PostgreSQL names; ITERATIONS=$ITERATIONS"
for m in none today_all today_1000 pg_1000; do
    echo "# $m.so: $(relocs "$OUT/$m.so") symbolic relocations"
done
echo "# context module references min_us median_us p90_us mean_us | error"

report() { # CONTEXT < "dlopen NAME k=v ..." lines
    while read -r _ name rest; do
        if [[ "$rest" == error=* ]]; then
            echo "$1 $name [${REFS[$name]}] ${rest:0:200}"
        else
            # shellcheck disable=SC2086
            eval "local $rest"
            echo "$1 $name [${REFS[$name]}] $min_us $median_us $p90_us $mean_us"
        fi
    done
}

# --- plain C host linked with libbgworker.so -----------------------------------
# shellcheck disable=SC2086
("$OUT/dlopen_host" "$ITERATIONS" $MODS || true) | report host
if [ -s "$OUT/standin.list" ]; then
    # shellcheck disable=SC2086
    "$OUT/dlopen_host" "$ITERATIONS" --global "$OUT/dlopen_standin.so" $STANDIN_MODS | report host
    "$OUT/dlopen_host_exe" "$ITERATIONS" "pg_1000_exe=$OUT/pg_1000.so" | report host
fi

# --- inside bgworkerd -----------------------------------------------------------
RUNDIR="$OUT/run"
LOG="$OUT/bgworkerd.log"
run_probe() { # GLOBAL_LIB MODS
    rm -rf "$RUNDIR"
    mkdir -p "$RUNDIR"
    # No stale log for the readiness check below to find before the new
    # daemon's output replaces it.
    rm -f "$LOG"
    : >"$LOG"
    BGW_DLOPEN_ITERATIONS="$ITERATIONS" BGW_DLOPEN_MODULES="$2" BGW_DLOPEN_GLOBAL="$1" \
        setsid "$DAEMON" -D "$RUNDIR" -c shared_preload_libraries=dlopen_probe \
        -c dynamic_library_path="$OUT" >"$LOG" 2>&1 </dev/null &
    local pid=$! i
    for ((i = 0; i < 1200; i++)); do # watchdog: 120 s
        grep -q 'bgworkerd ready' "$LOG" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$RUNDIR"
    grep -q 'bgworkerd ready' "$LOG" || { echo "bench/dlopen.sh: bgworkerd did not start; log:" >&2; cat "$LOG" >&2; exit 1; }
    grep -o 'dlopen [a-z_0-9]* .*' "$LOG" | report bgworkerd
}
run_probe "" "$MODS"
if [ -s "$OUT/standin.list" ]; then
    run_probe "$OUT/dlopen_standin.so" "$STANDIN_MODS"
fi
