#!/usr/bin/env bash
# census/run.sh - which PostgreSQL symbols real background-worker modules
# reference, how many of them bgworkerd provides, and whether the modules
# load under bgworkerd (`make census`; not part of `make test`).
#
# Modules, in two groups:
# Group 1, modules with background workers:
#   * Debian's PostgreSQL 15 builds of extensions with background workers,
#     fetched by package name (`apt-get download`, unpacked with `dpkg -x`,
#     never installed): the PACKAGES below.
#   * PostgreSQL's own pg_prewarm (autoprewarm), from the installed
#     postgresql-15 package.
#   * PostgreSQL's own worker_spi, built with PGXS from the postgresql-15
#     source package. This machine's apt configuration may have no deb-src
#     entries, so the source is fetched through a private apt configuration
#     under target/census/apt whose deb-src entries are derived, at run time,
#     from the deb entries of the configured Debian mirror
#     (/etc/apt/sources.list.d/*.sources, *.list, /etc/apt/sources.list;
#     suites of this release's codename only). The system's apt state is not
#     touched. test_shm_mq's source is kept beside it (target/census/test_shm_mq).
# Group 2, every module PostgreSQL users put in shared_preload_libraries:
#   * the contrib modules of the installed postgresql-15 package whose .so
#     defines _PG_init (pg_prewarm is in group 1);
#   * Debian's other postgresql-15-* extension packages whose .so defines
#     _PG_init (PRELOAD_PACKAGES below), fetched the same way. A module that
#     needs a library that is not installed here (liblua, libgdal, ...)
#     cannot be opened; its row says so, as that is no gap of libbgworker.
# Binary packages are fetched through the same private apt configuration
# (deb and deb-src entries), so neither the system's package lists nor its
# installed packages are touched.
#
# For each module .so: the PostgreSQL symbols it references (its undefined
# dynamic symbols that exports/pg15/postgres.symbols lists), how many of them
# bgworkerd exports (`nm -D --defined-only`), the missing ones, and whether it
# loads: bgworkerd is started with the module in shared_preload_libraries on a
# fresh run directory, under a watchdog (LOAD_SECS, default 5 s, then a fast
# shutdown by SIGINT, then SIGKILL of its process group, all by pid), and the
# first ERROR/FATAL/PANIC line of its log is recorded (log_min_messages=debug1,
# so that worker starts are logged).
#
# Output (target/census/): census.md (group 1's table, the ranking of missing
# symbols by number of modules, the ranking by area, and every module's
# missing symbols, then group 2's table), missing.tsv (group 1: MODULES
# NAME KIND HEADER SOURCE_DIR), modules.tsv and preload.tsv (the modules of
# each group), per-module lists under out/ and logs under logs/.
# Downloads are cached under target/census; delete the directory to refetch.
#
# PostgreSQL 17 and 18 (CENSUS_MAJOR=17|18; `make census-17`, `make
# census-18`): the same two groups from the Debian release that builds that
# major (17: trixie and trixie-security; 18: sid; census/release.sh), under
# target/census/MAJOR: group 1's packages the release has (those it lacks,
# or that ship no module, are listed in census.md), pg_prewarm and the
# contrib modules from the release's postgresql-MAJOR package (unpacked,
# never installed), worker_spi from its source package built with the
# installed PGXS against that major's headers (make pg-headers-MAJOR; left
# out, and said so, when the mirror serves no source), and as group 2 every
# other postgresql-MAJOR-* package of the release whose .so defines
# _PG_init. Symbols are checked against exports/pgMAJOR/postgres.symbols.
# bgworkerd runs on the release's own dynamic loader and C library, which
# its modules are linked against (census/release.sh says why).
#
# Knobs (environment): CENSUS_MAJOR (15, 17 or 18; default 15), LOAD_SECS
# (5), CENSUS_EXTRA (paths of more module .so files to include, separated by
# spaces), PG_CONFIG (/usr/lib/postgresql/15/bin/pg_config), CENSUS_OFFLINE=1
# (use only what is cached; fail if something is missing).
set -euo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MAJOR="${CENSUS_MAJOR:-15}"
case "$MAJOR" in
15 | 17 | 18) ;;
*) echo "census: CENSUS_MAJOR=$MAJOR: the census takes 15, 17 or 18" >&2; exit 2 ;;
esac
# PGDIR: where a Debian package of this major puts its files (modules under
# $PGDIR/lib); PGLIB: the directory PostgreSQL's own modules are read from
# (15: the installed postgresql-15; 17, 18: the release's postgresql-MAJOR
# unpacked under the census directory, set below).
PGDIR="/usr/lib/postgresql/$MAJOR"
PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
LOAD_SECS="${LOAD_SECS:-5}"
DAEMON="$ROOT/target/release/bgworkerd"
SYMS="$ROOT/exports/pg$MAJOR/postgres.symbols"
if [ "$MAJOR" = 15 ]; then
    CENSUS="$ROOT/target/census"
    PGLIB="$PGDIR/lib"
    SERVER_INCLUDE="$("$PG_CONFIG" --includedir-server)"
else
    CENSUS="$ROOT/target/census/$MAJOR"
    PGLIB="$CENSUS/pkgs/postgresql-$MAJOR$PGDIR/lib"
    SERVER_INCLUDE="$ROOT/target/pg/$MAJOR/usr/include/postgresql/$MAJOR/server"
fi

# Group 1: the extensions with background workers, by the name of their
# Debian package without the postgresql-MAJOR- prefix (a release that lacks
# one for this major is noted and skipped).
WORKER_PACKAGES=(bgw-replstatus cron partman pg-wait-sampling powa pglogical pglogical-ticker pg-fact-loader auto-failover)
PACKAGES=()

# Debian's postgresql-15-* packages (apt-cache search --names-only
# '^postgresql-15-') whose module .so defines _PG_init, other than those of
# group 1. Packages whose modules have no _PG_init (ip4r, pgl-ddl-deploy,
# pg-track-settings (SQL only), repack, ...) are left out.
PRELOAD_PACKAGES_15=(
    postgresql-15-decoderbufs
    postgresql-15-hll
    postgresql-15-hypopg
    postgresql-15-mysql-fdw
    postgresql-15-numeral
    postgresql-15-ogr-fdw
    postgresql-15-omnidb
    postgresql-15-orafce
    postgresql-15-pg-qualstats
    postgresql-15-pg-stat-kcache
    postgresql-15-pgaudit
    postgresql-15-pgauditlogtofile
    postgresql-15-pgextwlist
    postgresql-15-pgmemcache
    postgresql-15-pgmp
    postgresql-15-pgpcre
    postgresql-15-pldebugger
    postgresql-15-pllua
    postgresql-15-plpgsql-check
    postgresql-15-plprofiler
    postgresql-15-pointcloud
    postgresql-15-postgis-3
    postgresql-15-preprepare
    postgresql-15-rdkit
    postgresql-15-repmgr
    postgresql-15-rum
    postgresql-15-set-user
    postgresql-15-similarity
    postgresql-15-snakeoil
    postgresql-15-tablelog
    postgresql-15-tds-fdw
    postgresql-15-unit
    postgresql-15-wal2json
)

die() { echo "census: $*" >&2; exit 1; }
note() { echo "census: $*" >&2; }

[ -x "$DAEMON" ] || die "$DAEMON not found: run 'cargo build --release' (make census does)"
[ -f "$SYMS" ] || die "$SYMS not found: run 'make pg-symbols'"
for tool in apt-get dpkg dpkg-query nm readelf perl make setsid; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

mkdir -p "$CENSUS"/{debs,pkgs,src,mods,out,logs,run}

# --- 1. The private apt configuration ---------------------------------------
# deb and deb-src entries for this release's suites of every configured deb
# entry: private_sources (tools/private-apt.sh).
# shellcheck source=tools/private-apt.sh
. "$ROOT/tools/private-apt.sh"


# The private apt state (target/census/apt): built, and its lists fetched,
# on first use or when it lacks the binary lists (a state of an older run
# held only deb-src entries); APT_OPTS then points apt at it.
# For 17 and 18 the state is that of the release that builds the major
# (census/release.sh).
APT="$CENSUS/apt"
private_apt_opts "$APT"
APT_READY=0
# shellcheck source=census/release.sh
. "$ROOT/census/release.sh"
private_apt() { # [refresh]: make the private state usable (refresh: fetch the lists again)
    [ "$APT_READY" = 1 ] && [ "${1:-}" != refresh ] && return 0
    if [ "$MAJOR" != 15 ]; then
        [ "${1:-}" = refresh ] && rm -rf "$APT"
        release_apt_setup
        APT_READY=1
        return 0
    fi
    [ "${CENSUS_OFFLINE:-0}" = 1 ] && die "the private apt state is needed but CENSUS_OFFLINE=1"
    if [ "${1:-}" = refresh ] || ! ls "$APT/lists/"*_Packages* >/dev/null 2>&1 ||
        ! ls "$APT/lists/"*_Sources* >/dev/null 2>&1; then
        rm -rf "$APT"
        mkdir -p "$APT/sources.list.d" "$APT/lists/partial" "$APT/cache/archives/partial"
        : >"$APT/sources.list"
        private_sources "deb deb-src" >"$APT/sources.list.d/census.sources"
        [ -s "$APT/sources.list.d/census.sources" ] || die "no Debian deb entry found in the apt configuration"
        apt-get "${APT_OPTS[@]}" update >&2
    fi
    APT_READY=1
}

# --- 2. Debian's binary packages -------------------------------------------
fetch_deb() { # PACKAGE: newest cached .deb, else apt-get download
    local p="$1" deb
    deb="$(ls -1 "$CENSUS/debs/${p}_"*.deb 2>/dev/null | tail -1 || true)"
    if [ -z "$deb" ]; then
        [ "${CENSUS_OFFLINE:-0}" = 1 ] && die "$p is not cached under $CENSUS/debs (CENSUS_OFFLINE=1)"
        private_apt
        if ! (cd "$CENSUS/debs" && apt-get "${APT_OPTS[@]}" download "$p" >&2); then
            note "apt-get download $p failed; fetching the private package lists again once"
            private_apt refresh
            (cd "$CENSUS/debs" && apt-get "${APT_OPTS[@]}" download "$p" >&2) || die "apt-get download $p failed"
        fi
        deb="$(ls -1 "$CENSUS/debs/${p}_"*.deb | tail -1)"
    fi
    printf '%s\n' "$deb"
}

unpack_deb() { # PACKAGE -> the directory it is unpacked in (cached)
    local p="$1" deb dest
    deb="$(fetch_deb "$p")"
    dest="$CENSUS/pkgs/$p"
    if [ ! -f "$dest/.unpacked" ] || [ "$(cat "$dest/.unpacked")" != "$(basename "$deb")" ]; then
        rm -rf "$dest"
        mkdir -p "$dest"
        dpkg -x "$deb" "$dest"
        basename "$deb" >"$dest/.unpacked"
    fi
    printf '%s\n' "$dest"
}

has_pg_init() { nm -D --defined-only "$1" 2>/dev/null | awk '$3 == "_PG_init" { f = 1 } END { exit !f }'; }

# The packages of each group. 15: the lists above. 17, 18: group 1's
# packages the release has, and as group 2 every other postgresql-MAJOR-*
# package of the release (apt-cache search on the private lists; those
# without a module defining _PG_init are left out below). RUN_PREFIX: the
# command prefix bgworkerd runs under (17, 18: the release's dynamic loader
# and C library, census/release.sh).
RUN_PREFIX=()
if [ "$MAJOR" = 15 ]; then
    for w in "${WORKER_PACKAGES[@]}"; do PACKAGES+=("postgresql-15-$w"); done
    PRELOAD_PACKAGES=("${PRELOAD_PACKAGES_15[@]}")
    PRELOAD_STRICT=1
else
    PRELOAD_STRICT=0
    # The list is kept beside the downloads (delete it to take it anew).
    if [ ! -s "$CENSUS/release-packages" ]; then
        private_apt
        release_packages "$MAJOR" >"$CENSUS/release-packages"
    fi
    : >"$CENSUS/lacking"
    for w in "${WORKER_PACKAGES[@]}"; do
        if grep -qxF "postgresql-$MAJOR-$w" "$CENSUS/release-packages"; then
            PACKAGES+=("postgresql-$MAJOR-$w")
        else
            echo "postgresql-$MAJOR-$w" >>"$CENSUS/lacking"
            note "the release has no postgresql-$MAJOR-$w"
        fi
    done
    PRELOAD_PACKAGES=()
    while read -r p; do
        case " ${PACKAGES[*]} " in *" $p "*) continue ;; esac
        PRELOAD_PACKAGES+=("$p")
    done <"$CENSUS/release-packages"
    libc="$(unpack_deb libc6)"
    mapfile -t RUN_PREFIX < <(release_run_prefix "$libc")
    unpack_deb "postgresql-$MAJOR" >/dev/null
fi

: >"$CENSUS/modules.tsv.new"
for p in "${PACKAGES[@]}"; do
    dest="$(unpack_deb "$p")"
    deb="$(cat "$dest/.unpacked")"
    found=0
    for so in "$dest$PGDIR/lib/"*.so; do
        [ -e "$so" ] || continue
        found=1
        printf '%s\t%s\t%s\n' "$(basename "$so" .so)" "${deb%.deb}" "$so" >>"$CENSUS/modules.tsv.new"
    done
    if [ "$found" = 0 ]; then
        [ "$MAJOR" = 15 ] && die "$deb has no module under $PGDIR/lib"
        # A release of the extension without its C part (pg_fact_loader 2
        # for 17 is SQL only): noted beside the packages the release lacks.
        echo "$p ${deb%.deb}: no module under $PGDIR/lib" >>"$CENSUS/lacking"
        note "$deb has no module under $PGDIR/lib"
    fi
done

# Group 2: preloadable modules (those that define _PG_init).
: >"$CENSUS/preload.tsv.new"
if [ "$MAJOR" = 15 ]; then
    pgver="$(dpkg-query -W -f='${Package}_${Version}' "postgresql-$MAJOR")"
else
    pgver="$(cat "$CENSUS/pkgs/postgresql-$MAJOR/.unpacked")"
    pgver="${pgver%_amd64.deb}"
fi
for so in "$PGLIB/"*.so; do
    [ "$(basename "$so")" = pg_prewarm.so ] && continue
    has_pg_init "$so" || continue
    printf '%s\t%s\t%s\n' "$(basename "$so" .so)" "$pgver" "$so" >>"$CENSUS/preload.tsv.new"
done
for p in "${PRELOAD_PACKAGES[@]}"; do
    dest="$(unpack_deb "$p")"
    deb="$(cat "$dest/.unpacked")"
    found=0
    for so in "$dest$PGDIR/lib/"*.so; do
        [ -e "$so" ] || continue
        has_pg_init "$so" || continue
        found=1
        printf '%s\t%s\t%s\n' "$(basename "$so" .so)" "${deb%.deb}" "$so" >>"$CENSUS/preload.tsv.new"
    done
    [ "$found" = 1 ] || [ "$PRELOAD_STRICT" = 0 ] || die "$deb has no module with _PG_init under $PGDIR/lib"
done

# --- 3. PostgreSQL's own modules --------------------------------------------
[ -f "$PGLIB/pg_prewarm.so" ] || die "$PGLIB/pg_prewarm.so not found (install postgresql-$MAJOR)"
printf 'pg_prewarm\t%s\t%s\n' "$pgver" "$PGLIB/pg_prewarm.so" >>"$CENSUS/modules.tsv.new"

SRCROOT="$CENSUS/src/postgresql-$MAJOR"
if [ ! -f "$SRCROOT/src/test/modules/worker_spi/worker_spi.c" ] && [ "${CENSUS_OFFLINE:-0}" = 1 ]; then
    [ "$MAJOR" = 15 ] && die "no PostgreSQL source under $SRCROOT (CENSUS_OFFLINE=1)"
    # 17, 18: as when the mirror serves no source, the census goes on
    # without worker_spi, noted.
    echo "worker_spi: no source of postgresql-$MAJOR cached (CENSUS_OFFLINE=1)" >>"$CENSUS/lacking"
    note "no source of postgresql-$MAJOR cached: worker_spi is left out"
elif [ ! -f "$SRCROOT/src/test/modules/worker_spi/worker_spi.c" ]; then
    private_apt
    # The installed server's own version first, so the source matches the
    # binary; a mirror may lack it (a security update's source), so then the
    # other versions the mirror lists, newest first (the module is compiled
    # against the installed headers either way; the table names the version).
    if [ "$MAJOR" = 15 ]; then
        ver="$(dpkg-query -W -f='${Version}' "postgresql-$MAJOR")"
    else
        ver="$(dpkg-deb -f "$CENSUS/debs/$(cat "$CENSUS/pkgs/postgresql-$MAJOR/.unpacked")" Version)"
    fi
    others="$(apt-cache "${APT_OPTS[@]}" showsrc "postgresql-$MAJOR" | awk '/^Version:/ { print $2 }' |
              sort -u | grep -vxF "$ver" | sort -rV || true)"
    dir=""
    for v in $ver $others; do
        rm -rf "$CENSUS/src"
        mkdir -p "$CENSUS/src"
        if (cd "$CENSUS/src" && apt-get "${APT_OPTS[@]}" source "postgresql-$MAJOR=$v" >&2); then
            dir="$(find "$CENSUS/src" -mindepth 1 -maxdepth 1 -type d -name "postgresql-$MAJOR-*" | head -1)"
            [ "$v" = "$ver" ] || note "the source of postgresql-$MAJOR $ver is not available; using $v"
            break
        fi
        note "apt-get source postgresql-$MAJOR=$v failed"
    done
    if [ -n "$dir" ] && [ -f "$dir/src/test/modules/worker_spi/worker_spi.c" ]; then
        ln -sfn "$(basename "$dir")" "$SRCROOT"
    elif [ "$MAJOR" = 15 ]; then
        die "apt-get source postgresql-$MAJOR gave no source tree under $CENSUS/src"
    else
        # 17, 18: the census goes on without worker_spi (and without the
        # source directories of the missing-symbol report), noted.
        echo "worker_spi: apt-get source postgresql-$MAJOR gave no source tree (the mirror serves none of $ver $others)" \
            >>"$CENSUS/lacking"
        note "no source of postgresql-$MAJOR: worker_spi is left out"
    fi
fi
if [ -d "$SRCROOT" ]; then
    srcver="$(readlink "$SRCROOT")"
    rm -rf "$CENSUS/test_shm_mq"
    cp -r "$SRCROOT/src/test/modules/test_shm_mq" "$CENSUS/test_shm_mq"
fi

# 17, 18: the release's server-dev package has no PGXS, so the installed
# PGXS (15's compiler flags) builds it with that major's headers in place of
# 15's (make pg-headers-MAJOR), as the tests build this repository's modules
# for each major.
if [ ! -d "$SRCROOT" ]; then
    :
elif [ "$MAJOR" = 15 ]; then
    make -s -C "$SRCROOT/src/test/modules/worker_spi" USE_PGXS=1 PG_CONFIG="$PG_CONFIG" >&2
else
    [ -f "$SERVER_INCLUDE/postmaster/bgworker.h" ] || die "$SERVER_INCLUDE not found: run 'make pg-headers-$MAJOR'"
    make -s -C "$SRCROOT/src/test/modules/worker_spi" clean USE_PGXS=1 PG_CONFIG="$PG_CONFIG" >&2
    make -s -C "$SRCROOT/src/test/modules/worker_spi" USE_PGXS=1 PG_CONFIG="$PG_CONFIG" \
        includedir_server="$SERVER_INCLUDE" includedir_internal="$SERVER_INCLUDE/.." >&2
fi
[ -d "$SRCROOT" ] &&
    printf 'worker_spi\tsource %s, PGXS\t%s\n' "$srcver" "$SRCROOT/src/test/modules/worker_spi/worker_spi.so" \
        >>"$CENSUS/modules.tsv.new"
for so in ${CENSUS_EXTRA:-}; do
    [ -f "$so" ] || die "CENSUS_EXTRA: $so not found"
    printf '%s\t%s\t%s\n' "$(basename "$so" .so)" "CENSUS_EXTRA" "$(cd "$(dirname "$so")" && pwd)/$(basename "$so")" \
        >>"$CENSUS/modules.tsv.new"
done
mv "$CENSUS/modules.tsv.new" "$CENSUS/modules.tsv"
mv "$CENSUS/preload.tsv.new" "$CENSUS/preload.tsv"

# --- 4. Where each PostgreSQL name is declared and defined -----------------
# NAME HEADER (relative to the server include directory; first extern
# declaration) and NAME SOURCE_DIR (directory of the .c file that defines it
# in the source tree, by PostgreSQL's layout: a function's name starts the
# line of its definition). "-" when not derivable.
awk '!/^#/ { print $1, $2 }' "$SYMS" >"$CENSUS/out/pg.names"
perl -e '
    my ($names, $inc) = @ARGV; my %want;
    open my $n, "<", $names or die; while (<$n>) { my ($s) = split; $want{$s} = 1 }
    my %hdr; my @files = split /\n/, `find "$inc" -name "*.h" | sort`;
    for my $f (@files) {
        open my $h, "<", $f or next; my $stmt = "";
        while (my $l = <$h>) {
            if ($stmt eq "" && $l !~ /^\s*extern\b/) { next }
            $stmt .= $l; next unless $stmt =~ /;/;
            my $s = $stmt; $stmt = ""; $s =~ s{/\*.*?\*/}{}gs;
            my $name;
            # A function: the identifier before the first parenthesis; a
            # pointer to function: "(*name)" at the first parenthesis.
            if ($s =~ /^[^(]*?(\w+)\s*\(/) { $name = $1 }
            elsif ($s =~ /^[^(]*\(\s*\*\s*(\w+)\s*\)/) { $name = $1 }
            elsif ($s =~ /(\w+)\s*(?:\[[^\]]*\]\s*)*;/) { $name = $1 }
            next unless defined $name && $want{$name} && !exists $hdr{$name};
            (my $rel = $f) =~ s{^\Q$inc\E/}{}; $hdr{$name} = $rel;
        }
    }
    print "$_ $hdr{$_}\n" for sort keys %hdr;
' "$CENSUS/out/pg.names" "$SERVER_INCLUDE" >"$CENSUS/out/pg.headers"
{ if [ -d "$SRCROOT" ]; then cd "$SRCROOT" && find src/backend src/common src/port src/timezone -name '*.c' | sort; fi; } |
    perl -e '
        my ($names, $root) = @ARGV; my %want; my %def;
        open my $n, "<", $names or die; while (<$n>) { my ($s, $k) = split; $want{$s} = $k }
        while (my $f = <STDIN>) {
            chomp $f; open my $c, "<", "$root/$f" or next; (my $dir = $f) =~ s{/[^/]*$}{};
            while (my $l = <$c>) {
                if ($l =~ /^(\w+)\(/ && ($want{$1} // "") eq "F") { $def{$1} //= $dir; next }
                next if $l =~ /^(?:static|extern|typedef|#|\{|\}|\/|\s)/ || $l =~ /\(/;
                if ($l =~ /^[\w][\w\s\*]*?\b(\w+)\s*(?:\[[^\]]*\]\s*)*(?:=|;)/ && ($want{$1} // "") eq "V") { $def{$1} //= $dir }
            }
        }
        print "$_ $def{$_}\n" for sort keys %def;
    ' "$CENSUS/out/pg.names" "$SRCROOT" >"$CENSUS/out/pg.sources"

# --- 5. Per module: referenced, provided, missing; does it load? ----------
nm -D --defined-only "$DAEMON" | awk '{ print $3 }' | sed 's/@.*//' | sort -u >"$CENSUS/out/bgworkerd.defined"

first_problem() { # LOG: first ERROR/FATAL/PANIC line, without the log prefix,
                  # paths relative to the repository
    grep -m1 -E '(ERROR|FATAL|PANIC):' "$1" |
        sed -E -e 's/^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] //' -e "s|$ROOT/||g" || true
}

# Modules that must be preloaded after another one, as their documentation
# says (under PostgreSQL, too, they stop in _PG_init without it): MODULE ->
# the libraries put before it in shared_preload_libraries, found in the
# installed server's library directory.
declare -A COMPANIONS=(
    [pg_stat_kcache]=pg_stat_statements
)

try_load() { # MODULE DIR -> "yes"/"no", log in logs/MODULE.log
    local mod="$1" dir="$2" run="$CENSUS/run/$1" log="$CENSUS/logs/$1.log" pid i
    local preload="${COMPANIONS[$1]:+${COMPANIONS[$1]},}$1"
    rm -rf "$run"
    mkdir -p "$run"
    # In its run directory, as PostgreSQL runs in its data directory: files
    # a module writes relative to its working directory (credcheck's
    # pg_password_history) land there, not in the checkout. (This function
    # runs in a command substitution, so the cd stays here.)
    cd "$run"
    # Its own session, so the watchdog can end the daemon and its workers by
    # the process group of the pid it started.
    setsid "${RUN_PREFIX[@]}" "$DAEMON" -D "$run" -c "shared_preload_libraries=$preload" -c "dynamic_library_path=$dir:$PGLIB" \
        -c log_min_messages=debug1 \
        >"$log" 2>&1 </dev/null &
    pid=$!
    for ((i = 0; i < LOAD_SECS * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -INT "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    # A daemon that died of a signal (a module's SIGSEGV) could not remove
    # its shared memory segments, named after its pid: removed here, by
    # that pid (its process is gone).
    rm -f "/dev/shm/bgworker.$pid" "/dev/shm/bgworker.$pid.dsm"
    cd "$CENSUS"
    rm -rf "$run"
    if grep -q 'bgworkerd ready' "$log"; then echo yes; else echo no; fi
}

census_module() { # MODULE SO: per-module lists under out/, the log, and
                  # "REFERENCED PROVIDED MISSING LOADS ERR WORKERS KINDS READY"
                  # (tab-separated; LOADS: reached "bgworkerd ready", READY: the
                  # library was opened, so _PG_init ran, and bgworkerd got ready)
    local mod="$1" so="$2" dir="$CENSUS/mods/$1" loads err workers opened
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$so" "$dir/$mod.so"
    nm -D --undefined-only "$so" | awk '{ print $NF }' | sed 's/@.*//' | sort -u >"$CENSUS/out/$mod.undefined"
    join "$CENSUS/out/$mod.undefined" "$CENSUS/out/pg.names" >"$CENSUS/out/$mod.referenced"
    cut -d' ' -f1 "$CENSUS/out/$mod.referenced" | join - "$CENSUS/out/bgworkerd.defined" >"$CENSUS/out/$mod.provided"
    join -v1 "$CENSUS/out/$mod.referenced" "$CENSUS/out/$mod.provided" >"$CENSUS/out/$mod.missing"
    loads="$(try_load "$mod" "$dir")"
    err="$(first_problem "$CENSUS/logs/$mod.log")"
    workers="$(grep -c 'starting background worker' "$CENSUS/logs/$mod.log" || true)"
    # Opened: no "could not load/access" or magic-block complaint about the
    # module itself (a library its _PG_init loads is another matter).
    if grep -qF -e "could not load library \"$dir/$mod.so\"" -e "could not access file \"$mod\"" \
        -e "incompatible library \"$dir/$mod.so\"" "$CENSUS/logs/$mod.log"; then
        opened=no
    else
        opened=yes
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$(wc -l <"$CENSUS/out/$mod.referenced")" "$(wc -l <"$CENSUS/out/$mod.provided")" \
        "$(wc -l <"$CENSUS/out/$mod.missing")" "$loads" "${err:--}" "$workers" \
        "$(awk '$2 == "F" { f++ } $2 == "V" { v++ } END { printf "%d F, %d V", f, v }' "$CENSUS/out/$mod.missing")" \
        "$opened"
}

: >"$CENSUS/out/table.tsv"
while IFS=$'\t' read -r mod origin so; do
    r="$(census_module "$mod" "$so")"
    IFS=$'\t' read -r nref nprov nmiss loads err workers kinds _ <<<"$r"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mod" "$origin" "$nref" "$nprov" "$nmiss" "$loads" "$err" "$workers" "$kinds" \
        >>"$CENSUS/out/table.tsv"
    note "$mod: $(tail -1 "$CENSUS/out/table.tsv" | cut -f3-6 | tr '\t' ' ')"
done <"$CENSUS/modules.tsv"

# absent_libs SO: the libraries SO needs that are not installed here, and
# library versions missing here ("libstdc++.so.6 (GLIBCXX_3.4.32)"), as the
# dynamic loader bgworkerd runs on resolves them (ldd; 17, 18: the release's
# loader with --list).
absent_libs() {
    local out
    if [ "${#RUN_PREFIX[@]}" = 0 ]; then
        out="$(ldd "$1" 2>&1 || true)"
    else
        out="$("${RUN_PREFIX[@]}" --list "$1" 2>&1 || true)"
    fi
    printf '%s\n' "$out" | awk '
        /=> not found/ { l[++n] = $1; next }
        /error while loading shared libraries: .*: cannot open shared object file/ {
            f = $0; sub(/.*error while loading shared libraries: /, "", f); sub(/: cannot open.*/, "", f)
            l[++n] = f; next }
        /version `.*'"'"' not found/ {
            v = $0; sub(/.*version `/, "", v); sub(/'"'"'.*/, "", v)
            f = $0; sub(/: version `.*/, "", f); sub(/.*\//, "", f); sub(/^.*: /, "", f)
            l[++n] = f " (" v ")" }
        END { for (i = 1; i <= n; i++) if (!seen[l[i]]++) printf "%s%s", (k++ ? " " : ""), l[i] }'
}

# Group 2: MODULE FROM REFERENCED MISSING OPENED READY WORKERS FIRST_ERROR
# NOT_INSTALLED (libraries the module needs that are not installed here).
: >"$CENSUS/out/preload.tsv"
while IFS=$'\t' read -r mod origin so; do
    r="$(census_module "$mod" "$so")"
    IFS=$'\t' read -r nref _ nmiss ready err workers _ opened <<<"$r"
    absent="$(absent_libs "$so")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mod" "$origin" "$nref" "$nmiss" "$opened" "$ready" "$workers" "$err" "${absent:--}" \
        >>"$CENSUS/out/preload.tsv"
    note "$mod: opened $opened, ready $ready${absent:+ (not installed: $absent)}"
done <"$CENSUS/preload.tsv"

# --- 6. Report ---------------------------------------------------------------
# missing.tsv: MODULES NAME KIND HEADER SOURCE_DIR MODULE_LIST, most referenced first.
while IFS=$'\t' read -r mod _; do
    awk -v m="$mod" '{ print $1, $2, m }' "$CENSUS/out/$mod.missing"
done <"$CENSUS/modules.tsv" |
    awk -v H="$CENSUS/out/pg.headers" -v S="$CENSUS/out/pg.sources" -v P="${SYMS%/*}/port-common.symbols" '
        BEGIN { while ((getline l < H) > 0) { split(l, a, " "); hdr[a[1]] = a[2] }
                while ((getline l < S) > 0) { split(l, a, " "); src[a[1]] = a[2] }
                # Defined by libpgport/libpgcommon but not found by the scan
                # (e.g. pg_qsort, instantiated from sort_template.h).
                while ((getline l < P) > 0) { if (l ~ /^#/) continue; split(l, a, " ")
                    if (!(a[1] in src) && a[3] == "pgport") src[a[1]] = "src/port"
                    if (!(a[1] in src) && a[3] == "pgcommon") src[a[1]] = "src/common" } }
        { n[$1]++; kind[$1] = $2; mods[$1] = mods[$1] (mods[$1] == "" ? "" : ",") $3 }
        END { for (s in n) printf "%d\t%s\t%s\t%s\t%s\t%s\n", n[s], s, kind[s],
                  (s in hdr) ? hdr[s] : "-", (s in src) ? src[s] : "-", mods[s] }' |
    sort -t$'\t' -k1,1nr -k2,2 >"$CENSUS/missing.tsv"

{
    nmod="$(wc -l <"$CENSUS/out/table.tsv")"
    nload="$(awk -F'\t' '$6 == "yes"' "$CENSUS/out/table.tsv" | wc -l)"
    echo "# Census: PostgreSQL $MAJOR background-worker modules under bgworkerd"
    echo
    echo "Generated by \`make census\` (census/run.sh) on $(date -u +%Y-%m-%dT%H:%M:%SZ);"
    echo "libbgworker $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '(no commit)'),"
    echo "bgworkerd exports $(wc -l <"$CENSUS/out/bgworkerd.defined") dynamic symbols;"
    echo "PostgreSQL symbols: exports/pg$MAJOR/postgres.symbols ($(wc -l <"$CENSUS/out/pg.names") names, $(grep -m1 '^# package:' "$SYMS" | sed 's/^# package: //'))."
    echo
    echo "**$nload of $nmod modules load.** $(cut -f1 "$CENSUS/missing.tsv" | wc -l) distinct PostgreSQL symbols are missing"
    echo "($(awk -F'\t' '$3 == "F"' "$CENSUS/missing.tsv" | wc -l) functions, $(awk -F'\t' '$3 == "V"' "$CENSUS/missing.tsv" | wc -l) variables)."
    echo
    if [ -s "$CENSUS/lacking" ]; then
        echo "Not in this census (the release lacks them, or has no module in them):"
        echo
        sed 's/^/- /' "$CENSUS/lacking"
        echo
    fi
    if [ "${#RUN_PREFIX[@]}" != 0 ]; then
        echo "bgworkerd ran on the release's dynamic loader and C library: ${RUN_PREFIX[*]}."
        echo
    fi
    echo "| module | from | referenced | provided | missing | loads | workers started | first error |"
    echo "|---|---|---:|---:|---:|---|---:|---|"
    awk -F'\t' '{ e = $7; gsub(/\|/, "\\|", e); printf "| %s | %s | %s | %s | %s (%s) | %s | %s | `%s` |\n", $1, $2, $3, $4, $5, $9, $6, $8, e }' "$CENSUS/out/table.tsv"
    echo
    echo "\"referenced\": undefined dynamic symbols of the module that the real postgres"
    echo "binary exports; \"provided\": those bgworkerd exports; \"missing\": the others (F"
    echo "functions, V variables; the dynamic linker names only the first it meets); \"loads\": bgworkerd"
    echo "started with the module in shared_preload_libraries and reached \"bgworkerd"
    echo "ready\"; \"workers started\": its \"starting background worker process\" log lines"
    echo "within LOAD_SECS ($LOAD_SECS s); \"first error\": the first ERROR/FATAL/PANIC line of its log."
    echo
    echo "## Missing symbols by number of modules referencing them"
    echo
    echo "| modules | symbol | kind | header | source dir | referenced by |"
    echo "|---:|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | `%s` | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$CENSUS/missing.tsv"
    echo
    echo "## Missing symbols by area (source directory; header where the source is not known)"
    echo
    echo "| area | modules | distinct missing symbols | most referenced |"
    echo "|---|---:|---:|---|"
    awk -F'\t' '{ a = ($5 != "-") ? $5 : (($4 != "-") ? "include/" $4 : "(unknown)")
                  syms[a]++; if (!(a in top)) top[a] = $2 " (" $1 ")"
                  n = split($6, m, ","); for (i = 1; i <= n; i++) if (!((a, m[i]) in seen)) { seen[a, m[i]] = 1; mods[a]++ } }
         END { for (a in syms) printf "%d\t%d\t%s\t%s\n", mods[a], syms[a], a, top[a] }' "$CENSUS/missing.tsv" |
        sort -t$'\t' -k1,1nr -k2,2nr -k3,3 |
        awk -F'\t' '{ printf "| %s | %s | %s | `%s` |\n", $3, $1, $2, $4 }'
    echo
    echo "## Missing symbols by header"
    echo
    echo "| header | modules | distinct missing symbols | most referenced |"
    echo "|---|---:|---:|---|"
    awk -F'\t' '{ a = ($4 != "-") ? $4 : "(no extern declaration found)"
                  syms[a]++; if (!(a in top)) top[a] = $2 " (" $1 ")"
                  n = split($6, m, ","); for (i = 1; i <= n; i++) if (!((a, m[i]) in seen)) { seen[a, m[i]] = 1; mods[a]++ } }
         END { for (a in syms) printf "%d\t%d\t%s\t%s\n", mods[a], syms[a], a, top[a] }' "$CENSUS/missing.tsv" |
        sort -t$'\t' -k1,1nr -k2,2nr -k3,3 |
        awk -F'\t' '{ printf "| %s | %s | %s | `%s` |\n", $3, $1, $2, $4 }'
    echo
    echo "## Missing symbols of each module"
    while IFS=$'\t' read -r mod _; do
        echo
        echo "### $mod ($(wc -l <"$CENSUS/out/$mod.missing") missing)"
        echo
        if [ -s "$CENSUS/out/$mod.missing" ]; then
            awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $1 ($2 == "V" ? " (V)" : "") } END { print "" }' "$CENSUS/out/$mod.missing"
        else
            echo "(none)"
        fi
    done <"$CENSUS/modules.tsv"
    echo
    echo "## Group 2: modules users put in shared_preload_libraries"
    echo
    npre="$(wc -l <"$CENSUS/out/preload.tsv")"
    nopen="$(awk -F'\t' '$5 == "yes"' "$CENSUS/out/preload.tsv" | wc -l)"
    nready="$(awk -F'\t' '$6 == "yes"' "$CENSUS/out/preload.tsv" | wc -l)"
    nabsent="$(awk -F'\t' '$9 != "-"' "$CENSUS/out/preload.tsv" | wc -l)"
    echo "PostgreSQL $MAJOR's contrib modules and Debian's postgresql-$MAJOR-* extensions whose"
    echo ".so defines \`_PG_init\` (pg_prewarm: group 1). **$nopen of $npre load; \`_PG_init\` completes"
    echo "(bgworkerd ready) for $nready.** $nabsent need a library that is not installed here."
    echo
    echo "| module | from | referenced | missing | loads | _PG_init completed (ready) | workers started | first error | not installed |"
    echo "|---|---|---:|---:|---|---|---:|---|---|"
    awk -F'\t' '{ e = $8; gsub(/\|/, "\\|", e); printf "| %s | %s | %s | %s | %s | %s | %s | `%s` | %s |\n", $1, $2, $3, $4, $5, $6, $7, e, $9 }' "$CENSUS/out/preload.tsv"
    echo
    echo "\"loads\": the library was opened (no \"could not load library\"), so its \`_PG_init\` ran;"
    echo "\"_PG_init completed\": bgworkerd reached \"bgworkerd ready\" with it preloaded;"
    echo "\"not installed\": libraries the module needs (ldd) that are not installed on this machine"
    echo "(the census installs nothing), so it cannot be opened here under PostgreSQL either."
} >"$CENSUS/census.md"

column -t -s$'\t' -N module,from,referenced,provided,missing,loads,first_error,worker_starts,missing_kinds \
    "$CENSUS/out/table.tsv" 2>/dev/null || cat "$CENSUS/out/table.tsv"
echo
echo "census: top missing symbols (modules symbol kind header source_dir):"
head -30 "$CENSUS/missing.tsv" | cut -f1-5 | column -t -s$'\t'
echo
echo "census: group 2, preloadable modules:"
column -t -s$'\t' -N module,from,referenced,missing,loads,ready,worker_starts,first_error,not_installed \
    "$CENSUS/out/preload.tsv" 2>/dev/null || cat "$CENSUS/out/preload.tsv"
echo "census: full report in $CENSUS/census.md"
