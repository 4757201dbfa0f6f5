#!/bin/sh
# Seed 002 load-tests with locust users (no wait time): a closed loop of USERS streaming users
# against TGI's /generate_stream, through the router of `llmscale up`.
URL=${1:-http://127.0.0.1:8080}
exec "${LLMSCALE:-build/llmscale}" load --url "$URL" --api tgi --streaming \
  --concurrency "${USERS:-30}" --output-tokens-mean 100 --duration "${DURATION:-60s}"
