# libbgworker -- build, test, benchmark, run and install.
#
#   make              libraries, header, bgworkerd, bgworkerctl, the example host
#   make run          bgworkerd supervising the example module (Ctrl-C stops it)
#   make test         everything the test suite needs, then the suite
#   make bench        benchmarks (metric names as ../shared/bench-pg15)
#   make install      PREFIX=/usr/local DESTDIR= (stripped; STRIP=true keeps debug info)
#   make header       regenerate include/bgworker.h; make check-header: is it current?

PREFIX     ?= /usr/local
DESTDIR    ?=
PG_CONFIG  ?= /usr/lib/postgresql/15/bin/pg_config
PG_INCLUDE := /usr/include/postgresql/15/server
PG_BIN     := /usr/lib/postgresql/15/bin
CARGO      ?= cargo
STRIP      ?= strip
# The project's own C files build warning-free.
EXAMPLE_CFLAGS ?= -O2 -g -Wall -Wextra -Werror
VERSION    := 0.1.0
SOMAJOR    := 0
REL        := target/release
SHARED     := ../shared
# $libdir of dynamic_library_path is compiled in; the default matches /usr/local.
ifneq ($(PREFIX),/usr/local)
export BGW_PKGLIBDIR := $(PREFIX)/lib/bgworker
endif

.PHONY: all build examples header check-header pg-headers pg-server test-tools abi-probe link-probe test bench run install clean

all: build examples

build:
	$(CARGO) build --release
	@ln -sf libbgworker.so $(REL)/libbgworker.so.$(SOMAJOR)

# examples/host_example.c, linked against the build tree (its rpath names
# $(REL)); README.md shows the same build against an installed library.
examples: build
	@mkdir -p target/examples
	$(CC) $(EXAMPLE_CFLAGS) -Iinclude -o target/examples/host_example examples/host_example.c \
	  -L$(REL) -lbgworker -Wl,-rpath,$(CURDIR)/$(REL)

header: build
	cp $(REL)/bgworker.h include/bgworker.h

check-header: build
	@if cmp -s $(REL)/bgworker.h include/bgworker.h; then \
	  echo "check-header: include/bgworker.h is current"; \
	else \
	  diff -u include/bgworker.h $(REL)/bgworker.h | head -40; \
	  echo "check-header: include/bgworker.h is out of date: run 'make header'"; exit 1; \
	fi

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

test: pg-headers pg-server test-tools build examples check-header abi-probe link-probe
	$(CARGO) test --release -- --test-threads=2

bench: build pg-headers
	PG_CONFIG=$(PG_CONFIG) bash bench/run.sh

# exec: the shell make starts is replaced by run.sh, which survives Ctrl-C
# (see there) and exits 0 once bgworkerd has shut down cleanly; make itself
# then ends quietly on the same SIGINT.
run: build pg-headers
	exec env PG_CONFIG=$(PG_CONFIG) bash examples/run.sh

install: build
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/bgworker
	install -m 755 $(REL)/libbgworker.so $(DESTDIR)$(PREFIX)/lib/libbgworker.so.$(VERSION)
	$(STRIP) --strip-unneeded $(DESTDIR)$(PREFIX)/lib/libbgworker.so.$(VERSION)
	ln -sf libbgworker.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libbgworker.so.$(SOMAJOR)
	ln -sf libbgworker.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libbgworker.so
	install -m 644 $(REL)/libbgworker.a $(DESTDIR)$(PREFIX)/lib/libbgworker.a
	$(STRIP) --strip-debug $(DESTDIR)$(PREFIX)/lib/libbgworker.a
	install -m 644 include/bgworker.h $(DESTDIR)$(PREFIX)/include/bgworker.h
	install -m 755 $(REL)/bgworkerd $(DESTDIR)$(PREFIX)/bin/bgworkerd
	install -m 755 $(REL)/bgworkerctl $(DESTDIR)$(PREFIX)/bin/bgworkerctl
	$(STRIP) $(DESTDIR)$(PREFIX)/bin/bgworkerd $(DESTDIR)$(PREFIX)/bin/bgworkerctl
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' bgworker.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/bgworker.pc

clean:
	$(CARGO) clean
