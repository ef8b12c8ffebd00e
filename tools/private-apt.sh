# tools/private-apt.sh -- sourced by tools/pg-source.sh and census/run.sh:
# the entries of a private apt configuration derived, at run time, from the
# deb entries this machine's apt already uses (/etc/apt/sources.list.d/*.sources,
# *.list, /etc/apt/sources.list; suites of this release's codename only), so
# that source packages can be fetched when the system has no deb-src entries,
# without touching the system's apt state. The sourcing script defines
# die MESSAGE (print and exit).

# private_sources TYPES: deb822 stanzas of type TYPES ("deb-src", or
# "deb deb-src") for every configured deb entry of this release's suites.
private_sources() {
    local codename
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    [ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v cn="$codename" -v out="$1" '
            function flush() {
                if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no" && uris != "" && suites != "") {
                    n = split(suites, s, /[ \t]+/); keep = ""
                    for (i = 1; i <= n; i++) if (s[i] == cn || index(s[i], cn "-") == 1) keep = keep " " s[i]
                    if (keep != "") {
                        print "Types: " out; print "URIs: " uris; print "Suites:" keep
                        if (comps != "") print "Components: " comps
                        if (signed != "") print "Signed-By: " signed
                        print ""
                    }
                }
                types = uris = suites = comps = signed = enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            { key = $1; sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val) }
            key == "Types" { types = val } key == "URIs" { uris = val } key == "Suites" { suites = val }
            key == "Components" { comps = val } key == "Signed-By" { signed = val } key == "Enabled" { enabled = val }
            END { flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v cn="$codename" -v out="$1" '
            $1 != "deb" { next }
            { i = 2; opts = ""
              if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ } }
            { uri = $i; suite = $(i + 1); comps = ""
              for (j = i + 2; j <= NF; j++) comps = comps " " $j
              if (suite != cn && index(suite, cn "-") != 1) next
              split(opts, o, /[][ \t]+/); signed = ""
              for (k in o) if (o[k] ~ /^signed-by=/) { signed = o[k]; sub(/^signed-by=/, "", signed) }
              print "Types: " out; print "URIs: " uri; print "Suites: " suite
              sub(/^ /, "", comps); print "Components: " comps
              if (signed != "") print "Signed-By: " signed
              print "" }' "$f"
    done
}

# private_apt_opts DIR: point APT_OPTS (apt-get / apt-cache options) at the
# private apt state under DIR.
private_apt_opts() {
    APT_OPTS=(-o "Dir::Etc::SourceList=$1/sources.list" -o "Dir::Etc::SourceParts=$1/sources.list.d"
              -o "Dir::State::Lists=$1/lists" -o "Dir::Cache=$1/cache"
              -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
}
