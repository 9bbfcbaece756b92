# profile.mk — profilers and size/heap reports (docs/performance.md).
#
#   make flamegraph [PROFILE_CASE=e2e.logs.protobuf.10k] [PROFILE_SECS=5]
#        CPU profile of a benchmark case with perf (cpu-clock, call graphs);
#        falls back to valgrind callgrind when perf is missing or not
#        permitted -> ./flamegraph.svg and the hottest functions
#   make bloat          binary size by section, object file, top symbols
#   make heap-profile [HEAP_CASE=e2e.logs.protobuf.100k]
#        valgrind DHAT on one iteration of a case + a summary
#        (build/bench/heap/dhat.out.json opens in DHAT's viewer)
#   make alloc-report   counting-allocator report: allocations and bytes per
#        request/record in the steady state, peak heap
#   make perf-audit [AUDIT_ARGS=--quick]   everything -> build/bench/audit/findings.json

PROFILE_CASE ?= e2e.logs.protobuf.10k
PROFILE_SECS ?= 5
HEAP_CASE    ?= e2e.logs.protobuf.100k
PROFILE_DIR  := $(BUILD)/bench/profile

.PHONY: flamegraph bloat heap-profile alloc-report perf-audit
flamegraph: $(BENCH_BIN)
	@mkdir -p $(PROFILE_DIR)
	@if command -v perf >/dev/null 2>&1 && perf record -e cpu-clock -g -o $(PROFILE_DIR)/probe.data -- true >/dev/null 2>&1; then \
	  echo "flamegraph: perf record -e cpu-clock --call-graph dwarf ($(PROFILE_CASE), $(PROFILE_SECS) s)"; \
	  perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -o $(PROFILE_DIR)/perf.data -- $(BENCH_BIN) --run $(PROFILE_CASE) --secs $(PROFILE_SECS) && \
	  perf script -i $(PROFILE_DIR)/perf.data > $(PROFILE_DIR)/perf.script 2>/dev/null && \
	  python3 scripts/flamegraph.py --perf-script $(PROFILE_DIR)/perf.script --folded-out $(PROFILE_DIR)/stacks.folded \
	    --title "otlp2parquet: $(PROFILE_CASE) (perf cpu-clock)" --out flamegraph.svg --top 15; \
	else \
	  echo "flamegraph: perf unavailable or not permitted; using valgrind callgrind (approximate stacks)"; \
	  valgrind --tool=callgrind --callgrind-out-file=$(PROFILE_DIR)/callgrind.out $(BENCH_BIN) --run $(PROFILE_CASE) --iters 1 && \
	  python3 scripts/flamegraph.py --callgrind $(PROFILE_DIR)/callgrind.out --folded-out $(PROFILE_DIR)/stacks.folded \
	    --title "otlp2parquet: $(PROFILE_CASE) (callgrind, approximate)" --out flamegraph.svg --top 15; \
	fi
	@rm -f $(PROFILE_DIR)/probe.data

bloat: $(if $(MAIN_SRC),$(BIN))
	@python3 scripts/bench_bloat.py --binary $(BIN) --objects $(BUILD)/obj/src --json $(BUILD)/bench/bloat/bloat.json

heap-profile: $(BENCH_BIN)
	@mkdir -p $(BUILD)/bench/heap
	valgrind --tool=dhat --dhat-out-file=$(BUILD)/bench/heap/dhat.out.json $(BENCH_BIN) --run $(HEAP_CASE) --iters 1
	@python3 scripts/bench_heap.py $(BUILD)/bench/heap/dhat.out.json --json $(BUILD)/bench/heap/summary.json
	@echo "heap-profile: view $(BUILD)/bench/heap/dhat.out.json in valgrind's dh_view.html"
	@$(BENCH_BIN) --alloc-report --quick --out-file $(BUILD)/bench/alloc/alloc_report.json

alloc-report: $(BENCH_BIN)
	$(BENCH_BIN) --alloc-report --out-file $(BUILD)/bench/alloc/alloc_report.json

perf-audit: $(BENCH_BIN) $(if $(MAIN_SRC),$(BIN))
	python3 scripts/perf_audit.py $(AUDIT_ARGS)
