#!/usr/bin/env bash
# tools/pg-source.sh -- the source tree of the installed PostgreSQL 15
# (Debian's postgresql-15 source package), for the tests that build
# PostgreSQL's own test modules unchanged with PGXS (src/test/modules/
# test_shm_mq). Prints the tree's path.
#
# This machine's apt configuration may have no deb-src entries, so the
# source is fetched through a private apt configuration under
# target/pg-src/apt whose deb-src entries are derived, at run time, from
# the deb entries this machine's apt already uses (as census/run.sh does);
# the system's apt state is not touched. The download and the unpacked
# tree are cached under target/pg-src; nothing of it is ever committed.
# Needs apt-get, dpkg-source (dpkg-dev) and network access the first time.
set -euo pipefail

MAJOR=15
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/target/pg-src"
LINK="$DEST/postgresql-$MAJOR"
MARK=src/test/modules/test_shm_mq/setup.c

die() { echo "pg-source: $*" >&2; exit 1; }
note() { echo "pg-source: $*" >&2; }

if [ -f "$LINK/$MARK" ]; then
    echo "$LINK"
    exit 0
fi
for tool in apt-get apt-cache dpkg-query dpkg-source; do
    command -v "$tool" >/dev/null || die "$tool is needed (apt-get install dpkg-dev)"
done

# shellcheck source=tools/private-apt.sh
. "$ROOT/tools/private-apt.sh"


APT="$DEST/apt"
rm -rf "$APT"
mkdir -p "$APT/sources.list.d" "$APT/lists/partial" "$APT/cache/archives/partial"
: >"$APT/sources.list"
private_sources deb-src >"$APT/sources.list.d/deb-src.sources"
[ -s "$APT/sources.list.d/deb-src.sources" ] || die "no Debian deb entry found in the apt configuration"
private_apt_opts "$APT"
apt-get "${APT_OPTS[@]}" update >&2
# The installed server's own version first, so the source matches the
# binary the tests compare with; else the newest the mirror has.
ver="$(dpkg-query -W -f='${Version}' "postgresql-$MAJOR" 2>/dev/null || true)"
others="$(apt-cache "${APT_OPTS[@]}" showsrc "postgresql-$MAJOR" | awk '/^Version:/ { print $2 }' |
          sort -u | grep -vxF "${ver:-none}" | sort -rV || true)"
dir=""
for v in $ver $others; do
    rm -rf "$DEST/src"
    mkdir -p "$DEST/src"
    if (cd "$DEST/src" && apt-get "${APT_OPTS[@]}" source "postgresql-$MAJOR=$v" >&2); then
        dir="$(find "$DEST/src" -mindepth 1 -maxdepth 1 -type d -name "postgresql-$MAJOR-*" | head -1)"
        [ "$v" = "$ver" ] || note "the source of postgresql-$MAJOR $ver is not available; using $v"
        break
    fi
    note "apt-get source postgresql-$MAJOR=$v failed"
done
[ -n "$dir" ] && [ -f "$dir/$MARK" ] || die "apt-get source postgresql-$MAJOR gave no source tree under $DEST/src"
ln -sfn "src/$(basename "$dir")" "$LINK"
echo "$LINK"
