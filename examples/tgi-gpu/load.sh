#!/bin/sh
# Seed 002 finds its target by load testing with locust-load-inference ("テストには、
# locust-load-inference ツールを使用することをおすすめします"): a closed loop of USERS streaming
# users with no wait time against TGI's /generate_stream, through the router of `llmscale up`.
# The seed gives no prompt length; the scale-up depends on it, so it is explicit here: 550
# tokens (genai-perf's default, and `llmscale load`'s). One L4 holds only ~7k tokens of Gemma
# 7B KV cache, so 30 users of 550 + 100 tokens queue well above hpa.yaml's 10 per replica; with
# 20-token prompts they would not queue at all. Each run lasts DURATION, several 15 s scrapes.
URL=${1:-http://127.0.0.1:8080}
exec "${LLMSCALE:-build/llmscale}" load --url "$URL" --api tgi --streaming \
  --concurrency "${USERS:-30}" --input-tokens-mean "${PROMPT_TOKENS:-550}" \
  --output-tokens-mean 100 --duration "${DURATION:-60s}"
