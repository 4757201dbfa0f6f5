#!/usr/bin/env bash
# Fleet simulator speed (issue 16), one core each (taskset -c 0):
#  1. one hour of the Azure 2023 conversation trace at 28x its rate (about 20 vLLM replicas busy
#     at the peak), llmscale's 1 s pipeline, the HPA free to scale (max 2000);
#  2. cost against fleet size: fixed fleets of 10, 100 (and, with ALL=1, 1000) warm replicas
#     (minReplicas = maxReplicas), a 1-minute window at about 1.4 requests/s per replica;
#  3. `llmscale recommend` over 144 configurations of a 2-minute window on every core.
# Prints wall and CPU seconds (/usr/bin/time), simulated seconds, tokens computed (prompt +
# output) per CPU-second and engine steps.
# usage: bench/simulate.sh [BUILD_DIR=build] [TRACE=../shared/traces/azure2023/AzureLLMInferenceTrace_conv.csv]
# Needs a Release build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
trace=${2:-../shared/traces/azure2023/AzureLLMInferenceTrace_conv.csv}
bin="$build/llmscale"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ex=examples/sim/vllm-8b-h100

scenario() {  # name, initial replicas, min, max
  mkdir -p "$dir/$1"
  sed "s/  replicas: 1/  replicas: $2/" $ex/fleet.yaml > "$dir/$1/fleet.yaml"
  cp $ex/podmonitoring.yaml "$dir/$1/"
  sed "s/minReplicas: 1/minReplicas: $3/; s/maxReplicas: 30/maxReplicas: $4/" $ex/hpa.yaml \
    > "$dir/$1/hpa.yaml"
}

run() {  # label, scenario, args...
  local label=$1 sc=$2
  shift 2
  /usr/bin/time -f "%e %U" -o "$dir/time" taskset -c 0 "$bin" simulate "$dir/$sc" \
    --trace "$trace" --progress never --cold-start 60s --out "$dir/out" "$@" > /dev/null
  local field
  field() { grep -o "\"$1\": [0-9.e+]*" "$dir/out/summary.json" | grep -o '[0-9.e+]*$'; }
  read -r wall cpu < "$dir/time"
  awk -v l="$label" -v w="$wall" -v c="$cpu" -v d="$(field durationSeconds)" \
    -v t="$(field tokensComputed)" -v s="$(field engineSteps)" -v mr="$(field meanReadyReplicas)" \
    -v m="$(field maxReplicas)" 'BEGIN {
      printf "%-18s wall %7.1f s cpu %7.1f s  simulated %6.0f s (%5.0fx per CPU-s)  replicas mean %6.1f max %5d  %11d tokens  %10.0f tokens/CPU-s  %8d steps\n",
        l, w, c, d, d / c, mr, m, t, t / c, s }'
}

scenario free 1 1 2000
run "1h x28" free --rate-scale 28 --tail 5m
for n in 10 100 ${ALL:+1000}; do
  scenario "fixed$n" "$n" "$n" "$n"
  run "1m, $n replicas" "fixed$n" --window-start 10m --window-end 11m \
    --rate-scale "$((n * 14 / 10))" --tail 30s
done
scenario rec 1 1 30
/usr/bin/time -f "recommend: %e s wall, %U s CPU" "$bin" recommend "$dir/rec" --trace "$trace" \
  --window-start 10m --window-end 12m --rate-scale 7 --cold-start 60s --tail 2m \
  --slo-ttft 1s --slo-tpot 60ms --top 5 \
  --metric 'prometheus.googleapis.com|vllm:num_requests_running|gauge=8,12,16,24,32' \
  --metric 'prometheus.googleapis.com|vllm:num_requests_waiting|gauge=1,2,5' \
  --metric 'prometheus.googleapis.com|vllm:kv_cache_usage_perc|gauge=0.3,0.5,0.7,0.9' \
  --tolerances 0.05,0.1 --scale-down-windows 1m,5m --min-replicas 1,2,4 --max-replicas 30 \
  --out "$dir/recommend" | tail -9
