# census/release.sh -- sourced by census/run.sh for PostgreSQL 17 and 18:
# the Debian release that builds that major (17: trixie and trixie-security;
# 18: sid), a private apt state for it, and the C library modules of that
# release need.
#
# Invariants:
# * The mirror is the one this machine's apt is configured with, read at run
#   time by tools/pg-majors.sh (its `mirrors` command); no host name is
#   written in any file of the repository. Release files are checked against
#   debian-archive-keyring.
# * Everything is written under $CENSUS (the major's census directory): the
#   apt state (sources, lists, cache, an empty dpkg status), downloads and
#   unpacked packages. Nothing is installed; the system's apt state is not
#   touched.
# * The modules of trixie and sid are linked against that release's glibc
#   (2.41, 2.43) and reference its newer symbol versions (__isoc23_strtol
#   @GLIBC_2.38, ...), which this machine's C library does not define, so
#   no program here could open them. bgworkerd is therefore run by that
#   release's own dynamic loader and C library (libc6, unpacked with dpkg -x,
#   never installed): release_run_prefix. bgworkerd only forks (it never
#   execs itself), so its workers run on the same C library. Other
#   libraries come from this machine, as for any program; one a module needs
#   that is missing here is reported as not installed.
#
# The sourcing script defines die and note (print; die exits), CENSUS and
# MAJOR.

# release_suites MAJOR: "SUITE KIND" lines (KIND main or security).
release_suites() {
    case "$1" in
    17) printf 'trixie main\ntrixie-security security\n' ;;
    18) printf 'sid main\n' ;;
    *) die "PostgreSQL $1: no Debian release is known to build it" ;;
    esac
}

# release_apt_setup: APT_OPTS pointing at the private state under
# $CENSUS/apt, its lists fetched on first use (deb and deb-src entries).
release_apt_setup() {
    local dir="$CENSUS/apt" mirrors main security suite kind uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    APT_OPTS=(
        -o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=-"
        -o "Dir::Etc::preferencesparts=$dir/preferences.d" -o "Dir::Etc::preferences=$dir/preferences"
        -o "Dir::State::Lists=$dir/lists" -o "Dir::State::status=$dir/status"
        -o "Dir::State::extended_states=$dir/extended_states" -o "Dir::Cache=$dir/cache"
        -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
        -o "Debug::NoLocking=1" -o "APT::Sandbox::User=$(id -un)" -o "Acquire::Languages=none"
        -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
        -o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
        -o "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false"
        -o "Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false"
        -o "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false"
    )
    if ls "$dir/lists/"*_Packages* >/dev/null 2>&1 && ls "$dir/lists/"*_Sources* >/dev/null 2>&1; then
        return 0
    fi
    [ "${CENSUS_OFFLINE:-0}" = 1 ] && die "the private apt state is needed but CENSUS_OFFLINE=1"
    [ -r "$keyring" ] || die "$keyring is missing (debian-archive-keyring): it checks the suites' Release files"
    mirrors="$(bash "$ROOT/tools/pg-majors.sh" mirrors)" || die "no Debian mirror in this machine's apt configuration"
    main="$(printf '%s\n' "$mirrors" | awk '$1 == "main" { print $2 }')"
    security="$(printf '%s\n' "$mirrors" | awk '$1 == "security" && $2 != "(none)" { print $2 }')"
    rm -rf "$dir"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/preferences.d"
    : >"$dir/status"
    while read -r suite kind; do
        uri="$main"
        [ "$kind" = security ] && uri="$security"
        [ -n "$uri" ] || continue
        printf 'deb [signed-by=%s] %s %s main\ndeb-src [signed-by=%s] %s %s main\n' \
            "$keyring" "${uri%/}" "$suite" "$keyring" "${uri%/}" "$suite" >>"$dir/sources.list"
    done < <(release_suites "$MAJOR")
    note "reading the package lists of $(awk '$1 == "deb" { printf "%s%s", s, $4; s = ", " }' "$dir/sources.list") (private apt state in $dir)"
    apt-get -q "${APT_OPTS[@]}" update >"$dir/update.log" 2>&1 || {
        cat "$dir/update.log" >&2
        die "apt-get update of the private package lists failed"
    }
}

# release_packages MAJOR: the release's postgresql-MAJOR-* binary packages.
release_packages() {
    apt-cache "${APT_OPTS[@]}" search --names-only "^postgresql-$1-" |
        awk -v p="postgresql-$1-" 'index($1, p) == 1 { print $1 }' |
        grep -v -e '-dbgsym$' | sort -u
}

# release_run_prefix DIR: print the command prefix (one word a line) that runs
# a program of this machine on the release's dynamic loader and C library,
# libc6 unpacked under DIR.
release_run_prefix() {
    local dir="$1" loader
    loader="$dir/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    [ -x "$loader" ] || loader="$dir/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    [ -x "$loader" ] || die "$dir has no ld-linux-x86-64.so.2"
    printf '%s\n--library-path\n%s\n' "$loader" "$(dirname "$loader")"
}
