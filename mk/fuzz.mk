# Fuzzing: libFuzzer targets, one per tests/fuzz/fuzz_<name>.c, each seeded
# from tests/fuzz/corpus_<name>/.
#
#   make fuzz         build build/fuzz/fuzz_<name> (clang, ASan + UBSan + libFuzzer)
#   make fuzz-smoke   run every target for FUZZ_SECONDS (default 20) on its corpus
#
# The library is rebuilt with the same instrumentation in build/fuzz/lib by a
# sub-make, so coverage feedback and sanitizers reach into the decoders.
# New inputs found by a smoke run go to build/fuzz/corpus_<name>/; the
# committed seed corpora are only read.

FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_BIN     := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_SECONDS ?= 20
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OPT     := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link

.PHONY: fuzz fuzz-smoke fuzz-lib
fuzz: $(FUZZ_BIN)

fuzz-lib:
	@$(MAKE) --no-print-directory BUILD=build/fuzz/lib CC=clang OPTFLAGS="$(FUZZ_OPT)" \
	  build/fuzz/lib/libotlp2parquet.a

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c fuzz-lib
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer \
	  $(WARN) -Isrc $< build/fuzz/lib/libotlp2parquet.a -o $@ $(LDLIBS)

fuzz-smoke: fuzz
	@set -e; for name in $(FUZZ_NAMES); do \
	  mkdir -p build/fuzz/corpus_$$name; \
	  echo "fuzz-smoke: $$name for $(FUZZ_SECONDS) s"; \
	  log=build/fuzz/fuzz_$$name.log; \
	  ASAN_OPTIONS=detect_leaks=1 build/fuzz/fuzz_$$name -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/ \
	    -print_final_stats=1 build/fuzz/corpus_$$name tests/fuzz/corpus_$$name >$$log 2>&1 \
	    || { tail -n 60 $$log; echo "fuzz-smoke: $$name FAILED (log: $$log)"; exit 1; }; \
	  tail -n 3 $$log; \
	done
