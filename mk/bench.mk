# bench.mk — the benchmark harness and its reports (docs/performance.md).
#
#   make bench [FILTER="decode e2e"] [BENCH_ARGS=--quick]
#   make bench FILTER=query [QUERY_ROWS=5000000] [QUERY_ARGS="--runs 11 --metadata-cache"]
#        DuckDB queries on files without / with sorting, page index and bloom
#        filters (bench/query_bench.mjs); table in build/bench/query/query.md
#        run the cases whose name contains a FILTER word; results in
#        build/bench/results/<name>.json, dashboard build/bench/report/index.html
#   make bench-baseline [NAME=main] [FILTER=...]
#        run and save the results as baseline NAME (build/bench/baselines/NAME/)
#   make bench-compare [NAME=main] [FILTER=...] [THRESHOLD=2] [ALPHA=0.05] [RUN=0]
#        run (RUN=0: reuse the current results), compare with baseline NAME,
#        print improved / regressed / no change; non-zero exit on a
#        significant regression beyond THRESHOLD percent
#   make bench-report   regenerate the dashboard from the files
#   make bench-list     list the cases

BENCH_SRC     := $(sort $(wildcard bench/harness/*.c) $(wildcard bench/suites/*.c))
BENCH_OBJ     := $(BENCH_SRC:%.c=$(BUILD)/obj/%.o)
BENCH_BIN     := $(BUILD)/bench/o2p_bench
BENCH_DIR     := $(BUILD)/bench
BENCH_RESULTS := $(BENCH_DIR)/results
BENCH_REPORT  := $(BENCH_DIR)/report/index.html
NAME          ?= main
THRESHOLD     ?= 2
ALPHA         ?= 0.05
RUN           ?= 1
FILTER        ?=
BENCH_ARGS    ?=

# The result files record the flags that built the harness (environment).
BENCH_CFLAGS_STR := $(subst ",,$(CFLAGS))
$(BUILD)/obj/bench/harness/env.o: CFLAGS += -DO2P_BENCH_CFLAGS='"$(BENCH_CFLAGS_STR)"'

$(BENCH_BIN): $(BENCH_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

all: $(BENCH_BIN)

.PHONY: bench bench-baseline bench-compare bench-report bench-list
# FILTER word "query": the DuckDB query benchmark (bench/query_bench.mjs,
# issue 13), a node script outside the harness; QUERY_ROWS rows per signal,
# QUERY_ARGS more options of the script (--runs N, --metadata-cache, ...).
QUERY_ROWS    ?= 5000000
QUERY_ARGS    ?=
BENCH_FILTER  := $(filter-out query,$(FILTER))

bench: $(BENCH_BIN) $(if $(MAIN_SRC),$(BIN))
	@rm -rf $(BENCH_RESULTS)
	$(if $(and $(filter query,$(FILTER)),$(if $(BENCH_FILTER),,1)),,$(BENCH_BIN) --out $(BENCH_RESULTS) $(BENCH_ARGS) $(BENCH_FILTER))
	$(if $(filter query,$(FILTER)),O2P_BUILD=$(abspath $(BUILD)) node bench/query_bench.mjs --rows $(QUERY_ROWS) --out $(BENCH_DIR)/query $(QUERY_ARGS))
	@if [ -d $(BENCH_RESULTS) ]; then python3 scripts/bench_report.py --results $(BENCH_RESULTS) --baseline $(BENCH_DIR)/baselines/$(NAME) --out $(BENCH_REPORT); fi

bench-baseline: $(BENCH_BIN) $(if $(MAIN_SRC),$(BIN))
	@rm -rf $(BENCH_DIR)/baselines/$(NAME)
	$(BENCH_BIN) --out $(BENCH_DIR)/baselines/$(NAME) $(BENCH_ARGS) $(FILTER)
	@echo "baseline '$(NAME)' saved in $(BENCH_DIR)/baselines/$(NAME)"

bench-compare: $(BENCH_BIN) $(if $(MAIN_SRC),$(BIN))
	@test -d $(BENCH_DIR)/baselines/$(NAME) || { echo "no baseline '$(NAME)': run make bench-baseline NAME=$(NAME) first" >&2; exit 2; }
	@if [ "$(RUN)" != 0 ]; then rm -rf $(BENCH_RESULTS) && $(BENCH_BIN) --out $(BENCH_RESULTS) $(BENCH_ARGS) $(FILTER); fi
	@rc=0; python3 scripts/bench_compare.py --baseline $(BENCH_DIR)/baselines/$(NAME) --current $(BENCH_RESULTS) \
	  --threshold $(THRESHOLD) --alpha $(ALPHA) --json $(BENCH_DIR)/report/compare.json || rc=$$?; \
	python3 scripts/bench_report.py --results $(BENCH_RESULTS) --baseline $(BENCH_DIR)/baselines/$(NAME) \
	  --compare $(BENCH_DIR)/report/compare.json --out $(BENCH_REPORT); exit $$rc

bench-report:
	python3 scripts/bench_report.py --results $(BENCH_RESULTS) --baseline $(BENCH_DIR)/baselines/$(NAME) \
	  $(if $(wildcard $(BENCH_DIR)/report/compare.json),--compare $(BENCH_DIR)/report/compare.json) --out $(BENCH_REPORT)

bench-list: $(BENCH_BIN)
	@$(BENCH_BIN) --list

# Interleaved A/B against a git revision, for noisy machines (scripts/bench_ab.py):
#   make bench-ab BASE=HEAD~1 [FILTER=...] [ROUNDS=6] [SAMPLES=5]
BASE    ?= HEAD
ROUNDS  ?= 6
SAMPLES ?= 5
.PHONY: bench-ab
bench-ab:
	python3 scripts/bench_ab.py --base $(BASE) --rounds $(ROUNDS) --samples $(SAMPLES) \
	  --threshold $(THRESHOLD) --alpha $(ALPHA) $(FILTER)
