#!/usr/bin/env bash
# The main job: install, build, and show llmscale deciding like the Kubernetes HPA does on the
# seed-001 example (one NIM replica at 208m KV-cache usage against a 100m target -> 3 replicas).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
echo
echo "\$ build/llmscale hpa describe --input examples/hpa/nim-gpu-cache-scale-up.yaml"
build/llmscale hpa describe --input examples/hpa/nim-gpu-cache-scale-up.yaml
