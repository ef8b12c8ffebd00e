# libbgworker -- build, test, benchmark, run and install.
#
#   make              libraries, header, bgworkerd, bgworkerctl
#   make run          bgworkerd supervising the example module (Ctrl-C stops it)
#   make test         everything the test suite needs, then lint and the suite
#                     (budget: under 30 minutes on 2 cores; each part's time
#                     is printed; fails if anything is left in /tmp or /dev/shm)
#   make lint         cargo fmt --check, cargo clippy -D warnings
#   make check-asan   C tests and lifecycle tests with the C side under
#                     AddressSanitizer and UBSan
#   make bench        benchmarks, with PostgreSQL 15's figures beside them
#   make install      PREFIX=/usr/local DESTDIR=
#   make header       regenerate include/bgworker.h; make check-header: is it current?

PREFIX     ?= /usr/local
DESTDIR    ?=
PG_CONFIG  ?= /usr/lib/postgresql/15/bin/pg_config
PG_INCLUDE := /usr/include/postgresql/15/server
PG_BIN     := /usr/lib/postgresql/15/bin
CARGO      ?= cargo
VERSION    := 0.1.0
SOMAJOR    := 0
REL        := target/release
# $libdir of dynamic_library_path is compiled in; the default matches /usr/local.
ifneq ($(PREFIX),/usr/local)
export BGW_PKGLIBDIR := $(PREFIX)/lib/bgworker
endif

.PHONY: all build header check-header pg-headers pg-server test-tools rust-tools lint test check-asan bench run install clean

all: build

build:
	$(CARGO) build --release
	@ln -sf libbgworker.so $(REL)/libbgworker.so.$(SOMAJOR)

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

# rustfmt and clippy, from rustup when they are missing.
rust-tools:
	@if ! $(CARGO) fmt --version >/dev/null 2>&1 || ! $(CARGO) clippy --version >/dev/null 2>&1; then \
	  if command -v rustup >/dev/null; then \
	    echo "installing rustfmt and clippy"; rustup component add rustfmt clippy; \
	  else \
	    echo "cargo fmt and cargo clippy are missing: install the rustfmt and clippy components"; exit 1; \
	  fi; \
	fi

lint: rust-tools
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings -W clippy::undocumented_unsafe_blocks

# The suite: tests/abi.rs checks include/bgworker.h and libbgworker against
# PostgreSQL 15's own postmaster/bgworker.h, tests/c_warnings.rs the
# project's C files with -Wall -Wextra -Werror; tests/run-suite.sh times each
# part and fails when the suite leaves files or shared memory behind.
test: pg-headers pg-server test-tools build check-header lint
	bash tests/run-suite.sh

# The tests that run C code (host programs, modules) and the lifecycle tests
# with every C file the tests build compiled with
# -fsanitize=address,undefined (BGW_TEST_CFLAGS, kept apart under
# target/c-tests/cflags-*). bgworkerd, libbgworker and the test binaries are
# not instrumented, yet they dlopen() instrumented modules, and ASan's runtime
# must be the first library in a process: tests/check-asan.sh therefore runs
# them with LD_PRELOAD=$(cc -print-file-name=libasan.so), which bgworkerd,
# its workers and the host programs inherit. Left out: the tests that compare
# with a real PostgreSQL server, whose programs do not run with the runtime
# preloaded (see tests/check-asan.sh). To run a module under ASan by hand:
#   LD_PRELOAD=$(cc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
#     target/release/bgworkerd -D RUNDIR -c shared_preload_libraries=/path/mod.so
# Any sanitizer report fails the target. Budget: a few minutes on 2 cores.
check-asan: pg-headers pg-server test-tools build
	bash tests/check-asan.sh

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
