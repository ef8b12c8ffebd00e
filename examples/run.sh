#!/usr/bin/env bash
# examples/run.sh - `make run`: build lifecycle_demo.so and run bgworkerd with
# it in the foreground on target/run.  Ctrl-C sends SIGINT: fast shutdown.
#
# Knobs (environment): RUNDIR (target/run), PG_CONFIG (pg_config), CC (cc).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PG_CONFIG="${PG_CONFIG:-pg_config}"
CC="${CC:-cc}"
RUNDIR="${RUNDIR:-$ROOT/target/run}"
OUT="$ROOT/target/examples"
DAEMON="$ROOT/target/release/bgworkerd"

[ -x "$DAEMON" ] || (cd "$ROOT" && cargo build --release)

# Built the way PostgreSQL extensions are: PGXS compiler flags, server headers.
mkdir -p "$OUT" "$RUNDIR"
# shellcheck disable=SC2046  # pg_config prints several flags on purpose
"$CC" $("$PG_CONFIG" --cppflags) $("$PG_CONFIG" --cflags) $("$PG_CONFIG" --cflags_sl) \
    -I"$("$PG_CONFIG" --includedir-server)" -shared \
    -o "$OUT/lifecycle_demo.so" "$ROOT/examples/lifecycle_demo.c"

echo "bgworkerd on $RUNDIR with lifecycle_demo; Ctrl-C to stop" >&2
echo "in another terminal: $ROOT/target/release/bgworkerctl -D $RUNDIR status" >&2
# Ctrl-C sends SIGINT to the whole foreground process group: bgworkerd makes
# it a fast shutdown, and this script must not die of it (make would report
# the recipe as interrupted). A trap with a command (not '') keeps SIGINT's
# default disposition in bgworkerd; bash runs it once bgworkerd has exited,
# and the script then exits with bgworkerd's status: 0 after a clean
# shutdown.
trap 'echo "bgworkerd stopped (Ctrl-C)" >&2' INT
status=0
"$DAEMON" -D "$RUNDIR" \
    -c dynamic_library_path="$OUT" \
    -c shared_preload_libraries=lifecycle_demo \
    -c log_min_messages=debug1 || status=$?
exit "$status"
