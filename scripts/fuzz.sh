#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 20) on its corpus.
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
# -O1 and line tables only (libFuzzer's usual flags): reports keep file:line, the build is ~15 %
# faster than RelWithDebInfo's -O2 -g.
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only -DNDEBUG" -DLLMSCALE_FUZZ=ON \
  -DLLMSCALE_TESTS=OFF -DLLMSCALE_BENCH=OFF -DLLMSCALE_SANITIZE=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
fi
ninja -C build-fuzz "${targets[@]}"
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/${t%_fuzz}
  work=$(mktemp -d)
  artifacts=build-fuzz/artifacts/$t
  mkdir -p "$artifacts"
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  # fuzz/<target without _fuzz>.dict: tokens of the input language (PromQL operators, keywords,
  # function names), so mutations build grammatical inputs such as long operator chains.
  dict=()
  [ -f "fuzz/${t%_fuzz}.dict" ] && dict=(-dict="fuzz/${t%_fuzz}.dict")
  echo "fuzz: $t for ${seconds}s"
  status=0
  # -max_len=65536: room for inputs past the parsers' bounds (a 1,000-level operator chain is
  # ~2 KB, 10,000 label matchers ~60 KB); the corpus seeds start that long.
  build-fuzz/fuzz/"$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    "${dict[@]}" -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" >"$artifacts/log" 2>&1 ||
    status=$?
  grep -E 'stat::number_of_executed_units' "$artifacts/log" || true
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|#[0-9]+ ' "$artifacts/log" | head -30 >&2
    echo "fuzz: $t failed; reproducer in $artifacts/" >&2
    exit 1
  fi
done
