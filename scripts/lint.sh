#!/usr/bin/env bash
# lint: formatting (clang-format, .clang-format) and static analysis
# (cppcheck) over the tracked C sources.  Exit status 1 on any finding.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files '*.c' '*.h')
echo "lint: clang-format"
if ! clang-format --dry-run -Werror $files; then
  echo "lint: formatting differs; run 'make format'"
  status=1
fi
echo "lint: cppcheck"
if ! cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
    --enable=warning,portability --suppress=missingIncludeSystem \
    -Isrc -D__GNUC__ -D__BYTE_ORDER__=1234 -D__ORDER_LITTLE_ENDIAN__=1234 \
    --suppress=uninitvar:src/storage/sigv4.c $(git ls-files 'src/*.c'); then
  status=1
fi
[ $status = 0 ] && echo "lint: clean"
exit $status
