#!/usr/bin/env bash
# Every test: install, build with AddressSanitizer + UBSan, run all CTest suites (unit,
# integration, e2e), run each libFuzzer target briefly, and check formatting and clang-tidy on
# what changed. Usage: scripts/test.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
./scripts/install-deps.sh
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLLMSCALE_SANITIZE=ON \
  -DLLMSCALE_BENCH=OFF >/dev/null
ninja -C build-test -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-test && ctest -j"$(nproc)" --output-on-failure --timeout 600 "$@")
./scripts/fuzz.sh "${LLMSCALE_FUZZ_SECONDS:-5}"
./scripts/lint.sh
echo "test.sh: all passed in $(( $(date +%s) - start ))s"
