#!/usr/bin/env bash
# The policy comparison of docs/policies.md: the same trace slice through `llmscale simulate`
# under the HPA (a few targets; the cheapest meeting the goal is "best"), llmscale's policies
# and the peers, with one cold start. Prints one markdown row per run and keeps every run's
# output folder under $OUT.
#
#   bench/policy_compare.sh TRACE WINDOW_START WINDOW_END RATE_SCALE COLD_START [OUT]
#   bench/policy_compare.sh /work/shared/traces/azure2023/AzureLLMInferenceTrace_conv.csv \
#       10m 30m 20 70s policy-out/conv-70s
#
# Env: LLMSCALE (default build/llmscale), JOBS (default 2), HPA_TARGETS (default "32 64 96"),
# PEER_TARGET (default 64), SCALERS (default: every policy and peer), SCENARIO.
set -euo pipefail
trace=$1 start=$2 end=$3 scale=$4 cold=$5 out=${6:-policy-out/run}
bin=${LLMSCALE:-build/llmscale}
scenario=${SCENARIO:-examples/sim/policy-azure}
jobs=${JOBS:-2}
mkdir -p "$out"
runs=()
for t in ${HPA_TARGETS:-32 64 96}; do runs+=("hpa-$t"); done
for s in ${SCALERS:-slo slo+credit slo+credit+predict kpa keda-llmd aibrix-apa}; do runs+=("$s"); done
run_one() {
  local name=$1 dir="$out/$1" extra=()
  if [[ $name == hpa-* ]]; then
    # The scenario with this HPA target.
    local sc="$out/scenario-$name"
    mkdir -p "$sc"
    sed "s/averageValue: 24/averageValue: ${name#hpa-}/" "$scenario/fleet.yaml" > "$sc/fleet.yaml"
    extra=(--scaler hpa)
    set -- "$sc"
  else
    extra=(--scaler "$name" --peer-target "${PEER_TARGET:-64}")
    set -- "$scenario"
  fi
  /usr/bin/time -f "%e" -o "$dir.time" "$bin" simulate "$1" --trace "$trace" \
    --window-start "$start" --window-end "$end" --rate-scale "$scale" --cold-start "$cold" \
    "${extra[@]}" --progress never --out "$dir" > "$dir.log" 2>&1
}
export -f run_one
export out trace start end scale cold bin scenario
mkdir -p "$out"
printf '%s\n' "${runs[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}
python3 - "$out" "${runs[@]}" <<'PY'
import json, sys
out, runs = sys.argv[1], sys.argv[2:]
print("| scaler | TTFT attainment | SLO attainment | p90 TTFT s | replica-hours | scale events | lost | max | wall s |")
print("|---|---|---|---|---|---|---|---|---|")
for r in runs:
    s = json.load(open(f"{out}/{r}/summary.json"))
    req = s["requests"]
    t = open(f"{out}/{r}.time").read().split()[-1]
    print(f"| {r} | {s['ttftAttainment']*100:.2f} % | {s['sloAttainment']*100:.2f} % | "
          f"{s['ttftSeconds']['p90']:.2f} | {s['replicaHours']:.3f} | {s['scaleEvents']['total']} | "
          f"{req['rejected'] + req['aborted']} | {s['maxReplicas']} | {t} |")
PY
