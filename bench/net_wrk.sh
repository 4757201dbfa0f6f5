#!/usr/bin/env bash
# wrk against the net server's trivial endpoint (one server thread), then our own client as a
# closed-loop load generator against the same server, so the two rates can be compared.
# usage: bench/net_wrk.sh [SECONDS=10] [CONNECTIONS=50]
# Needs a Release build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-50}
build=${BUILD_DIR:-build}
ninja -C "$build" -j2 net_bench >/dev/null

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$build"/bench/net_bench --serve 0 >"$work/port" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(head -1 "$work/port")
url="http://127.0.0.1:$port/hello"
curl -fsS "$url" >/dev/null

echo "== wrk -t1 -c$connections -d${seconds}s --latency $url"
wrk -t1 -c"$connections" -d"${seconds}s" --latency "$url" | grep -E "Requests/sec|Latency|50%|99%|requests in|errors"
echo "== net_bench --load (HttpClient, one thread, $connections connections)"
"$build"/bench/net_bench --load "$url" "$connections" "$seconds"
