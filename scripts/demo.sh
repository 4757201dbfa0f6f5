#!/usr/bin/env bash
# The main job: install, build, and run `llmscale up` on the NIM seed (examples/nim-gpu): one
# simulated NIM replica behind the router, the seed's genai-perf sweep aimed at it, the HPA
# scaling on gpu_cache_usage_perc against 100m, then back down once the load ends. Prints the
# `kubectl get hpa -w` table as it goes; about three minutes, because the flags below shorten
# the cold start (5 s, not the profile's 70 s), the scrape (1 s, not 15 s), the scale-down window
# (60 s, not 5 min) and the load levels (20 s, not load.sh's 60 s). The example's files are the
# seed's; with them as shipped the loop takes about eleven minutes (README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
echo
echo "\$ build/llmscale up examples/nim-gpu --load '...genai-perf sweep...' --stop-when-scaled-down"
build/llmscale up examples/nim-gpu \
  --serve-sim-startup 5s --scrape-interval 1s \
  --horizontal-pod-autoscaler-downscale-stabilization 60s \
  --state-dir "$state" \
  --load "--url {router} --api openai-chat --streaming -m meta/llama-3.1-8b-instruct \
--synthetic-input-tokens-mean 200 --synthetic-input-tokens-stddev 10 --output-tokens-mean 200 \
--extra-inputs max_tokens:200 --extra-inputs min_tokens:200 --extra-inputs ignore_eos:true \
--concurrency 10,100,200 --duration 20s" \
  --stop-when-scaled-down --stop-after 5m
