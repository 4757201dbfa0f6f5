#!/bin/sh
# Seed 000's load: `seq 100 | xargs -P 100 -n 1 curl ... /generate` — 100 simultaneous
# requests of 200 tokens — as `llmscale load --burst`, against the router of `llmscale up`.
URL=${1:-http://127.0.0.1:8080}
exec "${LLMSCALE:-build/llmscale}" load --url "$URL" --api jetstream \
  --burst "${BURST:-100}" --output-tokens-mean 200 --input-tokens-mean 20
