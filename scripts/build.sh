#!/usr/bin/env bash
# Installs the dependencies and builds the release binary build/llmscale.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLMSCALE_TESTS=OFF >/dev/null
ninja -C build -j"$(nproc)" llmscale
