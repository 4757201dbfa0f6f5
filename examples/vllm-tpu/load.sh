#!/bin/sh
# Seed 003's load.sh: N endless curl loops of /v1/completions (max_tokens 100, temperature 0),
# as a closed loop of N users, against the router of `llmscale up`.
URL=${1:-http://127.0.0.1:8080}
exec "${LLMSCALE:-build/llmscale}" load --url "$URL" --api openai-completions \
  -m meta-llama/Meta-Llama-3.1-70B --concurrency "${N:-200}" --output-tokens-mean 100 \
  --extra-inputs temperature:0 --input-tokens-mean 7 --duration "${DURATION:-60s}"
