#!/bin/sh
# Seed 003's load.sh: N endless curl loops of /v1/completions ('{"model":
# "meta-llama/Meta-Llama-3.1-70B", "prompt": "Write a story about san francisco",
# "max_tokens": 100, "temperature": 0}'), as a closed loop of N users, against the router of
# `llmscale up`. The seed leaves N (PARALLEL_PROCESSES) to the reader; its watch shows
# `34972m/5`, about 35 requests waiting beyond the 256 a replica runs (max_num_seqs), so
# N = 300 reproduces it. Each run lasts DURATION, several 15 s scrapes.
URL=${1:-http://127.0.0.1:8080}
exec "${LLMSCALE:-build/llmscale}" load --url "$URL" --api openai-completions \
  -m meta-llama/Meta-Llama-3.1-70B --concurrency "${N:-300}" --output-tokens-mean 100 \
  --extra-inputs temperature:0 --input-tokens-mean 7 --duration "${DURATION:-60s}"
