# ThreadSanitizer: the library, unit tests and server built with
# -fsanitize=thread in build/tsan, then the unit tests and the end-to-end
# files that drive the server with concurrent load, flushes and SIGTERM.
#
#   make test-tsan    build and run (any report fails the run: halt_on_error)
#
# TSAN_E2E selects the end-to-end files (a regex over their names).

TSAN_OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
TSAN_E2E ?= server_load|server_errors|server_sdk

.PHONY: tsan test-tsan
tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan OPTFLAGS="$(TSAN_OPT)" all

test-tsan: tsan
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" BUILD=build/tsan \
	  TEST_FILTER='$(TSAN_E2E)' scripts/run_tests.sh
