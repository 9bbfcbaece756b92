#!/usr/bin/env bash
# wrk_mixed.sh — independent check of the http.mixed10 benchmark with wrk.
#
# Writes one mixed10 request body (1,000 protobuf log records over 10
# services, `o2p_bench --dump-body`), and runs wrk (closed loop, keep-alive,
# no back-off) posting it to a running server's /v1/logs.  wrk counts a 429
# as a non-2xx response, so accepted rows/s = (requests - non-2xx) * 1000 / s.
#
#   scripts/wrk_mixed.sh [URL] [CONNECTIONS] [SECONDS]
#   defaults: http://127.0.0.1:4318 2 15   (start `otlp2parquet serve -o DIR` first)
set -euo pipefail
url=${1:-http://127.0.0.1:4318}
conns=${2:-2}
secs=${3:-15}
root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/build/bench/o2p_bench
command -v wrk >/dev/null || { echo "wrk_mixed: wrk not installed (apt-get install wrk)" >&2; exit 2; }
[ -x "$bench" ] || { echo "wrk_mixed: $bench missing (run make)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bench" --dump-body "$tmp/body.pb"
cat >"$tmp/post.lua" <<LUA
local f = assert(io.open("$tmp/body.pb", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-protobuf"
wrk.path = "/v1/logs"
done = function(summary, latency, requests)
  local refused = summary.errors.status
  local accepted = summary.requests - refused
  io.write(string.format("mixed10: accepted %d requests (%.0f rows/s), refused (non-2xx) %d, p50 %.2f ms, p99 %.2f ms (all requests)\n",
    accepted, accepted * 1000 / (summary.duration / 1e6), refused,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
LUA
threads=$(( conns < 2 ? conns : 2 ))
wrk -t "$threads" -c "$conns" -d "${secs}s" --latency -s "$tmp/post.lua" "$url"
