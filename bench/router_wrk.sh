#!/usr/bin/env bash
# The router's added latency and its request rate: wrk (GET /v1/models) and hey (POST
# /v1/completions) against a trivial one-thread backend, directly and through `llmscale route`,
# then the per-chunk delay of streamed tokens directly and through the router.
# usage: bench/router_wrk.sh [SECONDS=10] [CONNECTIONS="1 50"] [ROUTER_THREADS=1]
# Needs a Release build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-"1 50"}
router_threads=${3:-1}
build=${BUILD_DIR:-build}
ninja -C "$build" -j2 router_bench llmscale >/dev/null

work=$(mktemp -d)
backend_pid=
router_pid=
cleanup() {
  for pid in $router_pid $backend_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

"$build"/bench/router_bench --serve 0 >"$work/port" 2>"$work/backend.log" &
backend_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
backend="http://127.0.0.1:$(head -1 "$work/port")"

router_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build"/llmscale --log-level warn route --listen "127.0.0.1:$router_port" \
  --backend "sim=$backend" --threads "$router_threads" 2>"$work/router.log" &
router_pid=$!
router="http://127.0.0.1:$router_port"
for _ in $(seq 100); do curl -fsS "$router/v1/models" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS "$router/v1/models" >/dev/null

for c in $connections; do
  for target in direct router; do
    if [ "$target" = direct ]; then base=$backend; else base=$router; fi
    echo "== wrk -t1 -c$c -d${seconds}s --latency $base/v1/models   ($target)"
    wrk -t1 -c"$c" -d"${seconds}s" --latency "$base/v1/models" |
      grep -E "Requests/sec|^ +50%|^ +99%|errors|Non-2xx" || true
  done
done

body='{"model":"llama","prompt":"hi","max_tokens":8}'
for target in direct router; do
  if [ "$target" = direct ]; then base=$backend; else base=$router; fi
  echo "== hey -z ${seconds}s -c 50 -m POST $base/v1/completions   ($target)"
  hey -z "${seconds}s" -c 50 -m POST -T application/json -d "$body" "$base/v1/completions" |
    grep -E "Requests/sec|50% in|99% in|\[[0-9]+\]" || true
done

for target in direct router; do
  if [ "$target" = direct ]; then base=$backend; else base=$router; fi
  echo "== router_bench --sse-latency $base/v1/completions 50   ($target)"
  "$build"/bench/router_bench --sse-latency "$base/v1/completions" 50
done

curl -fsS "$router/metrics" | grep -E '^llmscale_router_(requests_total|errors_total|retries_total)' || true
