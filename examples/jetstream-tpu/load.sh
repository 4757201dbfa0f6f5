#!/bin/sh
# Seed 000's load, "seq 100 | xargs -P 100 -n 1 curl --request POST ... localhost:8000/generate
# --data '{"prompt": "Can you provide a comprehensive and detailed overview of the history and
# development of artificial intelligence.", "max_tokens": 200}'": 100 simultaneous requests of
# that ~20-token prompt and 200 tokens, as `llmscale load --burst`, against the router of
# `llmscale up examples/jetstream-tpu`. The burst lasts about 6.5 s; the 5 s scrape of
# podmonitoring.yaml sees its prefill backlog in most runs (the file says what to do if not).
URL=${1:-http://127.0.0.1:8080}
exec "${LLMSCALE:-build/llmscale}" load --url "$URL" --api jetstream \
  --burst "${BURST:-100}" --output-tokens-mean 200 --input-tokens-mean 20
