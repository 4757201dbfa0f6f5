#!/bin/sh
# Seed 001's genai-perf runs, as `llmscale load`, against the router of `llmscale up
# examples/nim-gpu`: "genai-perf profile -m $MODEL --endpoint-type chat --service-kind openai
# --streaming --synthetic-input-tokens-mean 200 --synthetic-input-tokens-stddev 10
# --output-tokens-mean 200 --extra-inputs max_tokens:200 --extra-inputs min_tokens:200
# --extra-inputs ignore_eos:true", at the concurrencies of the seed's HPA run ("在不同並發度
# (10、100、200) 下運行 genai-perf"), each level for DURATION (genai-perf measures until
# its requests are done; 60 s keeps every level across several 15 s scrapes).
URL=${1:-http://127.0.0.1:8080}
exec "${LLMSCALE:-build/llmscale}" load --url "$URL" --api openai-chat --streaming \
  -m meta/llama-3.1-8b-instruct --synthetic-input-tokens-mean 200 \
  --synthetic-input-tokens-stddev 10 --output-tokens-mean 200 \
  --extra-inputs max_tokens:200 --extra-inputs min_tokens:200 --extra-inputs ignore_eos:true \
  --concurrency "${CONCURRENCY:-10,100,200}" --duration "${DURATION:-60s}"
