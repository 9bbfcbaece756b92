# otlp2parquet — build, test and tooling entry points.
#
#   make            build build/otlp2parquet (release, -O2 -g)
#   make run        install missing system packages, build, start the server on ./data
#   make test       install what the tests need, build, run every test
#   make test-asan  unit tests and the WAL e2e file under ASan+UBSan (build/asan/)
#   make test-tsan  unit tests + concurrent server e2e under ThreadSanitizer (mk/tsan.mk)
#   make lint       clang-format check + cppcheck
#   make clean

BUILD    ?= build
CC       ?= cc
# libcurl is compiled against but not linked: the S3 backend dlopens it
# (src/storage/s3_curl.c), so local-storage start-up does not pay for it.
PKGS     := libzstd snappy liblz4 libdeflate zlib libcrypto libssl libmicrohttpd gnutls libxxhash \
            libnghttp2
OPTFLAGS ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
CFLAGS   := -std=c11 -D_GNU_SOURCE $(OPTFLAGS) $(WARN) -Isrc -MMD -MP $(EXTRA_CFLAGS)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CFLAGS   += $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)

LIB_SRC  := $(filter-out src/cli/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libotlp2parquet.a
BIN      := $(BUILD)/otlp2parquet
MAIN_SRC := $(wildcard src/cli/main.c)

UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(BUILD)/unit_tests

# One program per file: end-to-end helpers and benchmarks.
PROG_SRC := $(sort $(wildcard tests/e2e/*.c) $(wildcard bench/*.c))
PROG_BIN := $(patsubst %.c,$(BUILD)/%,$(PROG_SRC))

ALL := $(LIB) $(UNIT_BIN) $(PROG_BIN) $(if $(MAIN_SRC),$(BIN))

.PHONY: all setup run test test-unit test-e2e test-asan asan lint format clean
all: $(ALL)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/src/cli/main.o $(LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# the HTTP unit tests use libcurl as their client
$(UNIT_BIN): $(UNIT_OBJ) $(LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(shell pkg-config --libs libcurl 2>/dev/null)

$(BUILD)/%: $(BUILD)/obj/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

setup:
	@scripts/setup.sh

run:
	@scripts/setup.sh --no-npm
	@$(MAKE) --no-print-directory all
	$(BIN) serve $(ARGS)

test: setup
	@$(MAKE) --no-print-directory all
	@scripts/run_tests.sh

test-unit: $(UNIT_BIN)
	$(UNIT_BIN) $(FILTER)

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan CC=clang \
	  OPTFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" all

# ASAN_E2E: end-to-end files also run against the ASan server (kill -9 and
# replay of the write-ahead log, its disk faults).
ASAN_E2E ?= tests/e2e/wal.test.mjs
test-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/unit_tests $(FILTER)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  O2P_BUILD=$(CURDIR)/build/asan node --test --test-concurrency=1 $(ASAN_E2E)

lint:
	@scripts/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

# Feature-specific targets (fuzzing, benchmarks, profiling) live in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
