#!/usr/bin/env bash
# HTTP overhead of the simulated server: completions per second on one core with the
# zero-time profile (every engine step lasts 1 ns, so the rate is the server's own HTTP, JSON,
# engine bookkeeping and formatting work). serve-sim is pinned to CPU 0 and wrk to CPU 1.
# usage: bench/server_http.sh [SECONDS=10] [CONNECTIONS=64]
# Needs a Release build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build llmscale
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
build=${BUILD_DIR:-build}

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

taskset -c 0 "$build"/llmscale --log-level warn serve-sim --port 0 \
  --profile bench/server_zero_time.yaml >"$work/ports" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 200); do [ -s "$work/ports" ] && break; sleep 0.05; done
port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["api_port"])' "$work/ports")
url="http://127.0.0.1:$port"

run() {  # name body path
  cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
LUA
  curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$2" "$url$3"
  echo "== $1: wrk -t1 -c$connections -d${seconds}s $url$3"
  taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$url$3" |
    grep -E "Requests/sec|Latency |50%|99%|requests in|errors|Non-2xx"
}

run "completion, 16 tokens, non-streaming" '{"prompt":"San Francisco is a","max_tokens":16}' /v1/completions
run "completion, 16 tokens, SSE" '{"prompt":"San Francisco is a","max_tokens":16,"stream":true}' /v1/completions
run "chat, 64 tokens, SSE with usage" '{"messages":[{"role":"user","content":"Hello there"}],"max_tokens":64,"stream":true,"stream_options":{"include_usage":true}}' /v1/chat/completions
echo "== GET /metrics (vllm-v1): wrk -t1 -c8 -d${seconds}s"
taskset -c 1 wrk -t1 -c8 -d"${seconds}s" "$url/metrics" | grep -E "Requests/sec|Latency "
