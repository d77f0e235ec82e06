# pgpart - plain make.  "make" builds ./pgpart; "make check" runs every test,
# also under AddressSanitizer + UndefinedBehaviorSanitizer; "make demo" shows
# it working on a private PostgreSQL cluster.  See README.md.

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

.PHONY: all deps unit check soak demo demo-stop bench clean format

all: pgpart

pgpart: $(OBJ) $(BUILD)/obj/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

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
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ -lm

$(BUILD)/unit-san/%: tests/unit/%.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=c11 $(WARNINGS) $(SAN_FLAGS) -o $@ $^ -lm

unit: $(addprefix $(BUILD)/unit/,$(UNIT_TESTS)) $(addprefix $(BUILD)/unit-san/,$(UNIT_TESTS))

deps:
	scripts/install-deps

# Unit tests, integration tests against a private cluster, then all of it
# again with the sanitizer build.  Ends with "N passed, N failed".
check: deps
	$(MAKE) pgpart $(BUILD)/pgpart-san $(BUILD)/bench-gen unit
	tests/run-all $(TESTS)

# the randomized soak with faults (tests/soak/soak.pl, docs/operations.md):
# "make soak DURATION=30m SEED=123"; without SEED a random one (printed).
# SOAK_RATE: writer transactions per second; SOAK_REPORT: a summary file.
DURATION ?= 10m
soak: deps pgpart
	tests/soak/run --duration=$(DURATION) $(if $(SEED),--seed=$(SEED)) \
		$(if $(SOAK_RATE),--rate=$(SOAK_RATE)) $(if $(SOAK_REPORT),--report=$(abspath $(SOAK_REPORT)))

demo: deps pgpart
	scripts/demo

# benchmarks measure (bench/README.md); results go to bench/results/
bench: deps pgpart $(BUILD)/bench-gen
	bench/migrate
	bench/rollup
	bench/tiermove
	bench/archive
	bench/reports
	bench/operations
	bench/partman

# the benchmarks' synthetic data generator (bench/gen.c), COPY text on stdout
$(BUILD)/bench-gen: bench/gen.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lm

demo-stop:
	scripts/pgcluster destroy "$${PGPART_DEMO_DIR:-$(CURDIR)/.demo}"

clean:
	rm -rf $(BUILD) pgpart tmp_check

format:
	clang-format -i src/*.c src/*/*.c src/*/*.h src/commands/*/*.[ch] tests/unit/*.c

-include $(OBJ:.o=.d) $(SAN_OBJ:.o=.d)
