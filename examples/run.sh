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
# exec: the terminal's SIGINT goes straight to bgworkerd
exec "$DAEMON" -D "$RUNDIR" \
    -c dynamic_library_path="$OUT" \
    -c shared_preload_libraries=lifecycle_demo \
    -c log_min_messages=debug1
