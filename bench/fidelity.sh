#!/usr/bin/env bash
# Reruns the fidelity table of docs/engine-model.md: the model against the published serving
# measurements the project holds.
#
#  1. Engine on a simulated clock (always; a few seconds): the `fidelity` test binary prints one
#     markdown row per published point (model | measured | error | source) and fails when a row
#     leaves the bound the document states. Same as `ctest -L fidelity`.
#  2. --real-time [SECONDS]: the same NIM 1.8.0 sweep through the real stack, `llmscale
#     serve-sim` (llama-3.1-8b-h100-fp8-nim, its default seeded variance) driven by `llmscale
#     load` (closed loop, 200 in / 200 out, ignore_eos, streaming) for SECONDS per level, and
#     the same rows printed from load's JSON report. Completions API, so no chat template is
#     added to the 200 tokens (the published sweep's lengths). Slow: ~SECONDS x 5 levels.
#
# usage: bench/fidelity.sh [--real-time [SECONDS=30]]
# BUILD_DIR (default build-test) holds engine_fidelity_tests; LLMSCALE (default
# $BUILD_DIR/llmscale) is the binary for --real-time: use a Release build on an idle machine (an
# ASan build on a loaded 2-core box lags real time by far: docs/engine-model.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-test}
llmscale=${LLMSCALE:-$build/llmscale}
real_time=0
seconds=30
if [ "${1:-}" = "--real-time" ]; then
  real_time=1
  seconds=${2:-30}
fi

echo "## Engine on a simulated clock ($build/tests/engine/engine_fidelity_tests)"
echo
echo "| quantity | model | measured | error | source |"
echo "|---|---|---|---|---|"
status=0
"$build"/tests/engine/engine_fidelity_tests >"${TMPDIR:-/tmp}/fidelity.$$" 2>&1 || status=$?
grep '^|' "${TMPDIR:-/tmp}/fidelity.$$" || true
grep -E '^\[  (PASSED|FAILED)' "${TMPDIR:-/tmp}/fidelity.$$" || true
rm -f "${TMPDIR:-/tmp}/fidelity.$$"
[ "$real_time" = 1 ] || exit "$status"

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$llmscale" --log-level warn serve-sim --port 0 --profile llama-3.1-8b-h100-fp8-nim \
  --startup-seconds 0 --seed 11 >"$work/ports" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 200); do [ -s "$work/ports" ] && break; sleep 0.05; done
port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["api_port"])' \
  "$work/ports")

"$llmscale" load --url "http://127.0.0.1:$port" --api openai-completions --streaming \
  -m meta-llama/Llama-3.1-8B-Instruct --input-tokens-mean 200 --output-tokens-mean 200 \
  --ignore-eos --concurrency 1,5,25,50,100 --duration "${seconds}s" \
  --report-json "$work/report.json" >"$work/load.log" 2>&1 || true

echo
echo "## serve-sim + llmscale load, real time (${seconds} s per level)"
echo
echo "| quantity | model | measured | error | source |"
echo "|---|---|---|---|---|"
python3 - "$work/report.json" <<'PY'
import json, sys
# NIM 1.8.0, Llama-3.1-8B-Instruct, H100 FP8 (docs.nvidia.com/nim/benchmarking/llm, Performance)
published = {1: (10.26, 4.63, 214.56), 5: (16.81, 4.58, 1076.88), 25: (36.34, 5.19, 4678.88),
             50: (67.41, 5.91, 8018.23), 100: (119.97, 7.57, 12214.97)}
report = json.load(open(sys.argv[1]))
for stage in report["stages"]:
    c = int(stage["workload"].split("=")[1])
    ttft, itl, tput = published[c]
    m = stage["metrics"]
    for name, model, measured in (("ITL (ms)", m["itl_ms"].get("mean", 0), itl),
                                  ("output tok/s", stage["throughput"]["output_tokens_per_s"], tput),
                                  ("TTFT (ms)", m["ttft_ms"].get("mean", 0), ttft)):
        err = (model - measured) / measured * 100
        print(f"| NIM 8B H100 FP8, C={c}: {name} (real time) | {model:.4g} | {measured:.4g} "
              f"| {err:+.0f}% | NIM 1.8.0 docs |")
PY
exit "$status"
