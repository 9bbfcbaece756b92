#!/usr/bin/env bash
# setup: installs what building and testing need, idempotently and fast when
# everything is already present.
#   scripts/setup.sh            system packages + pinned npm test packages
#   scripts/setup.sh --no-npm   system packages only (what `make run` needs)
set -euo pipefail
cd "$(dirname "$0")/.."

want_npm=1
[ "${1:-}" = "--no-npm" ] && want_npm=0

# Debian packages: build dependencies, then tools the tests use.
build_pkgs=(gcc make pkg-config libzstd-dev libsnappy-dev liblz4-dev libdeflate-dev zlib1g-dev
            libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libgnutls28-dev)
test_pkgs=(clang libclang-rt-14-dev curl zstd nodejs npm chromium valgrind linux-perf cppcheck clang-format wrk
           openssl)
pkgs=("${build_pkgs[@]}")
[ $want_npm = 1 ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  # a tool that is already on PATH (e.g. a node not from Debian) is enough
  case $p in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    clang) command -v clang >/dev/null 2>&1 && continue ;;
    gcc) command -v gcc >/dev/null 2>&1 && continue ;;
    chromium) command -v chromium >/dev/null 2>&1 && continue ;;
    linux-perf) command -v perf >/dev/null 2>&1 && continue ;;
    valgrind) command -v valgrind >/dev/null 2>&1 && continue ;;
    cppcheck) command -v cppcheck >/dev/null 2>&1 && continue ;;
    clang-format) command -v clang-format >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" != 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $want_npm = 1 ]; then
  # npm packages are pinned in tests/package-lock.json; reinstall only when it changed.
  stamp=tests/node_modules/.o2p-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s tests/package-lock.json "$stamp"; then
    echo "setup: installing pinned npm test packages"
    (cd tests && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/package-lock.json "$stamp"
  fi
fi
