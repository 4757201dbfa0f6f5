#!/bin/sh
# Seed 001's genai-perf runs (chat, streaming, 200 tokens in and out, concurrency 10 to 400),
# as `llmscale load`, against the router of `llmscale up examples/nim-gpu`.
URL=${1:-http://127.0.0.1:8080}
exec "${LLMSCALE:-build/llmscale}" load --url "$URL" --api openai-chat --streaming \
  -m meta/llama-3.1-8b-instruct --synthetic-input-tokens-mean 200 \
  --synthetic-input-tokens-stddev 10 --output-tokens-mean 200 \
  --extra-inputs max_tokens:200 --extra-inputs min_tokens:200 --extra-inputs ignore_eos:true \
  --concurrency "${CONCURRENCY:-10,100,200}" --duration "${DURATION:-60s}"
