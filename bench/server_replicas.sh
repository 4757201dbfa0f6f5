#!/usr/bin/env bash
# How many simulated replicas one machine sustains in real time: N `serve-sim` processes
# (llama-3.1-8b-h100, no cold start), each driven by its own closed-loop wrk at C concurrent
# streaming requests of the seeds' shape (seed 003's curl loop: "Write a story about san
# francisco", max_tokens 100; seed 001's genai-perf concurrency 10..400), for SECONDS.
#
# Lag metric (from each replica's GET /llmscale/stats): token lag = how late each token reaches
# the socket writer after the time the engine model gives it (its step's end on the clock),
# mean and max over all tokens; step lag = how late the engine's step timers fire. A replica
# keeps up with real time while the mean token lag stays well under one decode step (~7 ms)
# and its token rate matches a lone replica's.
# usage: bench/server_replicas.sh [SECONDS=20] [CONCURRENCY=10] N...   (default N: 1 2 4 8 16)
# Needs a Release build (see bench/server_http.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
concurrency=${2:-10}
shift 2 || true
counts=("$@")
[ ${#counts[@]} -eq 0 ] && counts=(1 2 4 8 16)
build=${BUILD_DIR:-build}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"Write a story about san francisco","max_tokens":100,"temperature":0,"stream":true}'
wrk.headers["Content-Type"] = "application/json"
LUA

printf "%9s %11s %12s %14s %14s %13s %12s %9s\n" replicas concurrency "tokens/s" "token_lag_mean" "token_lag_max" "step_lag_mean" "step_lag_max" "cpu_busy"
for n in "${counts[@]}"; do
  ports=()
  server_pids=()
  for i in $(seq "$n"); do
    "$build"/llmscale --log-level warn serve-sim --port 0 --profile llama-3.1-8b-h100 \
      --startup-seconds 0 --seed "$i" >"$work/ports.$i" 2>"$work/server.$i.log" &
    pids+=($!)
    server_pids+=($!)
  done
  for i in $(seq "$n"); do
    for _ in $(seq 200); do [ -s "$work/ports.$i" ] && break; sleep 0.05; done
    ports+=("$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["api_port"])' "$work/ports.$i")")
  done
  cpu_before=$(awk '/^cpu /{print $2+$3+$4+$6+$7+$8, $5}' /proc/stat)
  wrk_pids=()
  for port in "${ports[@]}"; do
    wrk -t1 -c"$concurrency" -d"${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$port/v1/completions" \
      >"$work/wrk.$port" 2>&1 &
    wrk_pids+=($!)
  done
  for pid in "${wrk_pids[@]}"; do wait "$pid" || true; done
  cpu_after=$(awk '/^cpu /{print $2+$3+$4+$6+$7+$8, $5}' /proc/stat)
  for port in "${ports[@]}"; do curl -fsS "http://127.0.0.1:$port/llmscale/stats"; echo; done >"$work/stats.$n"
  python3 - "$work/stats.$n" "$n" "$concurrency" "$seconds" "$cpu_before" "$cpu_after" <<'PY'
import json, sys
path, n, c, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
b_busy, b_idle = map(float, sys.argv[5].split()); a_busy, a_idle = map(float, sys.argv[6].split())
busy = (a_busy - b_busy) / max(1.0, (a_busy - b_busy) + (a_idle - b_idle))
stats = [json.loads(l) for l in open(path) if l.strip()]
tokens = sum(s["tokens_sent"] for s in stats)
writes = sum(s["token_writes"] for s in stats)
lag_mean = sum(s["token_lag_seconds_mean"] * s["token_writes"] for s in stats) / max(1, writes)
lag_max = max(s["token_lag_seconds_max"] for s in stats)
steps = sum(s["steps"] for s in stats)
step_mean = sum(s["step_lag_seconds_mean"] * s["steps"] for s in stats) / max(1, steps)
step_max = max(s["step_lag_seconds_max"] for s in stats)
print(f"{n:9d} {c:11d} {tokens/secs:12.0f} {lag_mean*1e3:11.2f} ms {lag_max*1e3:11.1f} ms {step_mean*1e3:10.2f} ms {step_max*1e3:9.1f} ms {busy*100:8.0f}%")
PY
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
done
