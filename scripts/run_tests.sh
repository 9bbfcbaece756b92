#!/usr/bin/env bash
# run_tests: runs every suite (unit, end-to-end) and prints one closing line
# "N passed, N failed" summed over all of them.  Exit status 1 on any failure.
#   TEST_FILTER=pattern  limit the end-to-end files (by name)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
total_pass=0
total_fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # <suite> <passed> <failed>
  total_pass=$((total_pass + $2)); total_fail=$((total_fail + $3))
  echo "== $1: $2 passed, $3 failed"
}

echo "== unit tests"
"$BUILD/unit_tests" | tee "$log"
rc=${PIPESTATUS[0]}
line=$(grep -E '^unit: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
if [ -n "$line" ]; then
  p=$(echo "$line" | sed -E 's/^unit: ([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
  count unit "$p" "$f"
else
  count unit 0 1
fi

e2e=$(ls tests/e2e/*.test.mjs 2>/dev/null | grep -E "${TEST_FILTER:-.}" || true)
if [ -n "$e2e" ]; then
  echo "== end-to-end tests"
  O2P_BUILD="$PWD/$BUILD" node --test --test-concurrency=1 --test-reporter=spec \
    --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination="$log" $e2e
  rc=$?
  p=$(grep -E '^# pass [0-9]+' "$log" | awk '{print $3}' | tail -1)
  f=$(grep -E '^# fail [0-9]+' "$log" | awk '{print $3}' | tail -1)
  p=${p:-0}; f=${f:-0}
  [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
  count e2e "$p" "$f"
fi

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
