#!/usr/bin/env bash
# CPU cost of the live dashboard: `llmscale up` (NIM example, no load) with no dashboard client,
# then with N open pages (each: a snapshot, then the SSE stream), CPU ticks of up's process
# over the same window. Usage: bench/dashboard_streams.sh [BINARY] [N] [SECONDS]
set -euo pipefail
bin=${1:-build/llmscale}
n=${2:-10}
secs=${3:-20}
dir=$(mktemp -d)
"$bin" up examples/nim-gpu --serve-sim-startup 1s --scrape-interval 1s \
  --router-listen 127.0.0.1:0 --control-listen 127.0.0.1:0 --state-dir "$dir/state" \
  --stop-after $((3 * secs + 30))s >"$dir/out.log" 2>&1 &
up=$!
trap 'kill $up 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q "dashboard on" "$dir/out.log" && break; sleep 0.1; done
url=$(grep -o "dashboard on [^ ]*" "$dir/out.log" | cut -d' ' -f3)
sleep 5  # the replica's cold start
ticks() { awk '{print $14 + $15}' "/proc/$up/stat"; }
hz=$(getconf CLK_TCK)
a=$(ticks); sleep "$secs"; b=$(ticks)
echo "0 pages: $(( (b - a) * 1000 / hz )) ms CPU in ${secs}s"
pids=()
for i in $(seq "$n"); do
  curl -s -H 'Accept-Encoding: gzip' "${url}api/dashboard/snapshot" -o /dev/null
  curl -sN "${url}api/dashboard/events" -o "$dir/sse$i.log" &
  pids+=($!)
done
sleep 1
a=$(ticks); sleep "$secs"; b=$(ticks)
echo "$n pages: $(( (b - a) * 1000 / hz )) ms CPU in ${secs}s ($(wc -c <"$dir/sse1.log") bytes streamed to each)"
kill "${pids[@]}"
for p in "" app.js app.css api/dashboard/snapshot; do
  gz=$(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$url$p")
  raw=$(curl -s -o /dev/null -w '%{size_download}' "$url$p")
  echo "/$p: $gz bytes gzipped, $raw plain"
done
