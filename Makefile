# pgpart - plain make.  "make" builds ./pgpart; "make check" runs every test,
# also under AddressSanitizer + UndefinedBehaviorSanitizer; "make demo" shows
# it working on a private PostgreSQL cluster; "make install" (PREFIX, DESTDIR,
# BINDIR, MANDIR) and "make deb" install it.  See README.md.

CC ?= cc
PG_CONFIG ?= pg_config
# "=" not ":=": evaluated when a rule runs, after "make deps" installed libpq-dev
PG_INCLUDEDIR = $(or $(shell $(PG_CONFIG) --includedir 2>/dev/null),/usr/include/postgresql)

WARNINGS = -Wall -Wextra -Werror -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wvla -Wwrite-strings -Wshadow
CPPFLAGS += -Isrc -I$(PG_INCLUDEDIR) -D_GNU_SOURCE
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 $(WARNINGS)
LIBS = -lpq -ljansson -lzstd -lcurl -lcrypto -lmicrohttpd -lpthread -lm

SAN_FLAGS = -DPGPART_TEST_HOOKS -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

# the pure modules: no libpq, no I/O; unit-tested without a database
CORE_SRC = $(wildcard src/core/*.c) src/util/mem.c src/util/namelist.c src/util/strbuf.c
APP_SRC = $(wildcard src/util/*.c src/core/*.c src/pg/*.c src/storage/*.c src/cli/*.c \
	src/commands/*/*.c)
UNIT_TESTS = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

BUILD = build
OBJ = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(APP_SRC))
SAN_OBJ = $(patsubst src/%.c,$(BUILD)/san/%.o,$(APP_SRC))

.PHONY: all deps deps-demo deps-bench deps-deb unit check soak demo demo-stop bench clean format \
	install uninstall deb package-prep

# "make install": GNU-style directories; DESTDIR for staged installs (packages)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATAROOTDIR ?= $(PREFIX)/share
MANDIR ?= $(DATAROOTDIR)/man
# contrib/ (systemd units, alert rules, dashboard, CronJob)
PGPART_DATADIR ?= $(DATAROOTDIR)/pgpart
DOCDIR ?= $(DATAROOTDIR)/doc/pgpart
DOCS = README.md docs/operations.md docs/security.md docs/performance.md
# the folder bash-completion loads completions from on demand
BASHCOMPDIR ?= $(DATAROOTDIR)/bash-completion/completions
INSTALL ?= install

MAN1 = $(sort $(wildcard docs/man/*.1))
CONTRIB = $(sort $(wildcard contrib/*/*))
# what goes to $(PGPART_DATADIR), as paths below it
CONTRIB_SHARED = $(patsubst contrib/%,%,$(filter-out contrib/bash-completion/%,$(CONTRIB)))
VERSION = $(shell sed -n 's/^\#define PGPART_VERSION "\(.*\)"/\1/p' src/util/version.h)

all: pgpart

pgpart: $(OBJ) $(BUILD)/obj/main.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# the same program with sanitizers, for the test suite's second pass
$(BUILD)/pgpart-san: $(SAN_OBJ) $(BUILD)/san/main.o
	$(CC) -std=c11 $(SAN_FLAGS) -o $@ $^ $(LIBS)

$(BUILD)/san/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=c11 $(WARNINGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ -ljansson -lm

$(BUILD)/unit-san/%: tests/unit/%.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=c11 $(WARNINGS) $(SAN_FLAGS) -o $@ $^ -ljansson -lm

unit: $(addprefix $(BUILD)/unit/,$(UNIT_TESTS)) $(addprefix $(BUILD)/unit-san/,$(UNIT_TESTS))

# what each purpose needs (scripts/install-deps): "deps" is the test suite's
deps:
	scripts/install-deps check
deps-demo:
	scripts/install-deps demo
deps-bench:
	scripts/install-deps bench
deps-deb:
	scripts/install-deps deb

# Unit tests, integration tests against a private cluster, then all of it
# again with the sanitizer build.  Ends with "N passed, N failed".
check: deps
	$(MAKE) pgpart $(BUILD)/pgpart-san $(BUILD)/bench-gen unit
	@# the package test's material (a minute), unless TESTS leaves that test out
	@if [ -z "$(TESTS)" ] || [ -n "$(findstring 920_package,$(TESTS))" ]; then \
		echo "make check: building the Debian package and trying make install (log: $(BUILD)/package-prep.log)"; \
		$(MAKE) package-prep >$(BUILD)/package-prep.log 2>&1 || \
		echo "make check: package-prep failed; tests/integration/920_package.pl shows $(BUILD)/package-prep.log"; \
	fi
	tests/run-all $(TESTS)

# the randomized soak with faults (tests/soak/soak.pl, docs/operations.md):
# "make soak DURATION=30m SEED=123"; without SEED a random one (printed).
# SOAK_RATE: writer transactions per second; SOAK_REPORT: a summary file.
DURATION ?= 10m
soak: deps pgpart
	tests/soak/run --duration=$(DURATION) $(if $(SEED),--seed=$(SEED)) \
		$(if $(SOAK_RATE),--rate=$(SOAK_RATE)) $(if $(SOAK_REPORT),--report=$(abspath $(SOAK_REPORT)))

demo: deps-demo pgpart
	scripts/demo

# benchmarks measure (bench/README.md); results go to bench/results/
bench: deps-bench pgpart $(BUILD)/bench-gen
	bench/migrate
	bench/rollup
	bench/tiermove
	bench/remote
	bench/archive
	bench/reports
	bench/operations
	bench/partman
	bench/drain
	bench/repartition

# the benchmarks' synthetic data generator (bench/gen.c), COPY text on stdout
$(BUILD)/bench-gen: bench/gen.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lm

demo-stop:
	scripts/pgcluster destroy "$${PGPART_DEMO_DIR:-$(CURDIR)/.demo}"

# installs the binary, the man pages, the bash completion, the documentation
# and contrib/; the systemd units are given the installed binary's path (and
# their comments the installed folder)
install: pgpart
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 755 pgpart $(DESTDIR)$(BINDIR)/pgpart
	$(INSTALL) -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 contrib/bash-completion/pgpart $(DESTDIR)$(BASHCOMPDIR)/pgpart
	for f in $(CONTRIB_SHARED); do \
		d=$(DESTDIR)$(PGPART_DATADIR)/$$f; \
		$(INSTALL) -d "$${d%/*}" && \
		sed -e 's|/usr/local/bin/pgpart|$(BINDIR)/pgpart|g' -e 's| contrib/| $(PGPART_DATADIR)/|g' \
			"contrib/$$f" >"$$d" && chmod 644 "$$d" || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pgpart $(DESTDIR)$(BASHCOMPDIR)/pgpart \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	rm -f $(addprefix $(DESTDIR)$(PGPART_DATADIR)/,$(CONTRIB_SHARED))
	-rmdir $(addprefix $(DESTDIR)$(PGPART_DATADIR)/,$(sort $(dir $(CONTRIB_SHARED)))) \
		$(DESTDIR)$(PGPART_DATADIR) $(DESTDIR)$(DOCDIR) 2>/dev/null

# the Debian package (debian/), built by Debian's tools in a copy of the tree
# under build/deb, so the checkout stays clean; then lintian, which must
# report no error.  The .deb lands in build/deb/.
DEB_JOBS ?= 2
deb: deps-deb
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/pgpart-$(VERSION)
	cp -a Makefile README.md src docs contrib debian $(BUILD)/deb/pgpart-$(VERSION)/
	cd $(BUILD)/deb/pgpart-$(VERSION) && dpkg-buildpackage -us -uc -b -j$(DEB_JOBS)
	lintian --tag-display-limit 0 --fail-on error $(BUILD)/deb/*.changes >$(BUILD)/deb/lintian.txt || \
		{ cat $(BUILD)/deb/lintian.txt; echo "make deb: lintian reports errors"; exit 1; }
	cat $(BUILD)/deb/lintian.txt
	rm -rf $(BUILD)/deb/pgpart-$(VERSION)

# what tests/integration/920_package.pl inspects (make check runs it first):
# the package, lintian's findings, and what "make install" + "make uninstall"
# put into and left in a staging root
package-prep:
	rm -rf $(BUILD)/install-test $(BUILD)/package-prep.ok
	$(MAKE) deb
	$(MAKE) install DESTDIR=$(CURDIR)/$(BUILD)/install-test/root PREFIX=/usr
	cd $(BUILD)/install-test/root && find . ! -type d | sort >../installed.txt
	$(MAKE) uninstall DESTDIR=$(CURDIR)/$(BUILD)/install-test/root PREFIX=/usr
	cd $(BUILD)/install-test/root && find . \( ! -type d -o -name '*pgpart*' \) | sort >../left.txt
	touch $(BUILD)/package-prep.ok

clean:
	rm -rf $(BUILD) pgpart tmp_check

format:
	clang-format -i src/*.c src/*/*.c src/*/*.h src/commands/*/*.[ch] tests/unit/*.c

-include $(OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(BUILD)/obj/main.d $(BUILD)/san/main.d
