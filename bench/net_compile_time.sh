#!/usr/bin/env bash
# Clean compile time of the net library and its test TUs in the test configuration (-O0,
# ASan+UBSan): CPU seconds per translation unit, each compiled alone with ccache disabled.
# usage: bench/net_compile_time.sh [BUILD_DIR=build-compile-time]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-compile-time}
rm -rf "$dir"
export CCACHE_DISABLE=1
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLLMSCALE_SANITIZE=ON \
  -DLLMSCALE_BENCH=OFF >/dev/null
ninja -C "$dir" -j2 llmscale_core >/dev/null
start=$(date +%s.%N)
ninja -C "$dir" -j2 llmscale_net >/dev/null
echo "llmscale_net clean build at -j2: $(echo "$(date +%s.%N) - $start" | bc) s wall"
python3 - "$dir" <<'PY'
import json, os, resource, subprocess, sys
build = sys.argv[1]
rows = []
for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
    path = os.path.relpath(entry["file"])
    if not (path.startswith("src/net/") or path.startswith("tests/net/")):
        continue
    command = entry["command"].replace("/usr/bin/ccache ", "")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, shell=True, cwd=entry["directory"], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rows.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, path))
for cpu, path in sorted(rows, reverse=True):
    print(f"{cpu:6.1f} s  {path}")
for prefix in ("src/net/", "tests/net/"):
    print(f"total {prefix}: {sum(c for c, p in rows if p.startswith(prefix)):.1f} CPU s")
PY
rm -rf "$dir"
