#!/usr/bin/env bash
# Fleet simulator speed (issue 16): one hour of the Azure 2023 conversation trace, rate-scaled so
# that about 20 vLLM replicas are busy, simulated with llmscale's 1 s pipeline on one core; then
# how the cost grows with the fleet (about 10, 100 and 1,000 replicas, 5-minute windows); then
# `llmscale recommend` over >= 100 configurations on every core.
# usage: bench/simulate.sh [BUILD_DIR=build] [TRACE=../shared/traces/azure2023/AzureLLMInferenceTrace_conv.csv]
# Needs a Release build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
trace=${2:-../shared/traces/azure2023/AzureLLMInferenceTrace_conv.csv}
bin="$build/llmscale"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# The example scenario with room for 2,000 replicas and no Workload/Simulation documents.
mkdir -p "$dir/scenario"
cp examples/sim/vllm-8b-h100/{fleet,podmonitoring}.yaml "$dir/scenario/"
sed 's/maxReplicas: 30/maxReplicas: 2000/' examples/sim/vllm-8b-h100/hpa.yaml > "$dir/scenario/hpa.yaml"

run() {  # label, args...
  local label=$1
  shift
  local start end
  start=$(date +%s.%N)
  taskset -c 0 "$bin" simulate "$dir/scenario" --trace "$trace" --progress never \
    --cold-start 60s --out "$dir/out" "$@" > "$dir/log"
  end=$(date +%s.%N)
  local tokens steps sim_s mean_ready max_r
  tokens=$(grep -o '"tokensComputed": [0-9]*' "$dir/out/summary.json" | grep -o '[0-9]*$')
  steps=$(grep -o '"engineSteps": [0-9]*' "$dir/out/summary.json" | grep -o '[0-9]*$')
  sim_s=$(grep -o '"durationSeconds": [0-9.e+]*' "$dir/out/summary.json" | grep -o '[0-9.e+]*$')
  mean_ready=$(grep -o '"meanReadyReplicas": [0-9.e+]*' "$dir/out/summary.json" | grep -o '[0-9.e+]*$')
  max_r=$(grep -o '"maxReplicas": [0-9]*' "$dir/out/summary.json" | grep -o '[0-9]*$')
  awk -v l="$label" -v s="$start" -v e="$end" -v t="$tokens" -v st="$steps" -v d="$sim_s" \
    -v mr="$mean_ready" -v m="$max_r" 'BEGIN {
      w = e - s;
      printf "%-28s wall %7.2f s  simulated %6.0f s (%5.0fx)  replicas mean %6.1f max %5d  %10d tokens  %9.0f tokens/CPU-s  %8d steps\n",
        l, w, d, d / w, mr, m, t, t / w, st }'
}

echo "== one hour, ~20 replicas, 1 s scrapes (one core)"
run "1h x28" --rate-scale 28 --tail 5m
echo "== 5-minute window (18:25-18:30), scaling with the fleet (one core)"
run "5m ~10 replicas" --window-start 10m --window-end 15m --rate-scale 14 --tail 2m
run "5m ~100 replicas" --window-start 10m --window-end 15m --rate-scale 140 --tail 2m
run "5m ~1000 replicas" --window-start 10m --window-end 15m --rate-scale 1400 --tail 2m
echo "== recommend: 120 configurations of a 10-minute window at ~20 replicas (every core)"
start=$(date +%s.%N)
"$bin" recommend "$dir/scenario" --trace "$trace" --window-start 10m --window-end 20m \
  --rate-scale 28 --cold-start 60s --tail 5m --slo-ttft 1s --slo-tpot 60ms --top 5 \
  --metric 'prometheus.googleapis.com|vllm:num_requests_running|gauge=8,12,16,24,32' \
  --metric 'prometheus.googleapis.com|vllm:num_requests_waiting|gauge=1,2,5' \
  --metric 'prometheus.googleapis.com|vllm:kv_cache_usage_perc|gauge=0.3,0.5,0.7,0.9' \
  --tolerances 0.05,0.1 --scale-down-windows 1m,5m --min-replicas 1,4,8 --max-replicas 60 \
  --out "$dir/rec" | tail -8
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "recommend wall %.1f s\n", e - s }'
