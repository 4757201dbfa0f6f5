#!/usr/bin/env bash
# llmscale load against wrk and hey on the same trivial loopback endpoint, in one run:
# `loadgen_bench --serve` (one server thread) answers POST /v1/completions with a fixed
# completion; each tool sends the same JSON body with the same number of connections for the
# same time, one after the other. Like for like: `wrk -t T` against `llmscale load --threads T`
# (T = THREADS, capped at the connections), and the one-thread pair (wrk -t1, --threads 1) in the
# same run; hey runs on T CPUs. Then the end-to-end SSE rate and the TTFT/ITL timing error.
# usage: bench/loadgen_wrk.sh [SECONDS=10] [CONNECTIONS="10 50 200"] [THREADS=$(nproc)]
# Needs a Release build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-"10 50 200"}
threads=${3:-$(nproc)}
build=${BUILD_DIR:-build}
ninja -C "$build" -j2 loadgen_bench llmscale >/dev/null

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$build"/bench/loadgen_bench --serve 0 >"$work/port" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(head -1 "$work/port")
url="http://127.0.0.1:$port/v1/completions"

# The body llmscale load sends with these flags (16 prompt words, max_tokens 4), reused as is.
body='{"model":"m","prompt":"the of and to in is that for it as was with be by on not","max_tokens":4,"stream":false}'
printf '%s' "$body" >"$work/body.json"
cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
EOF
curl -fsS -X POST -H 'Content-Type: application/json' -d "$body" "$url" >/dev/null

# llmscale load with N threads at C connections: its requests/s (or errors:...).
ours() {
  "$build"/llmscale load --url "http://127.0.0.1:$port" --api openai-completions --model m \
    --concurrency "$1" --threads "$2" --duration "${seconds}s" --input-tokens-mean 16 \
    --output-tokens-mean 4 --quiet --report-json "$work/load.json" 2>/dev/null
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['stages'][0]; \
print(s['throughput']['requests_per_s'] if not s['errors'] else 'errors:%s' % s['errors'])" "$work/load.json"
}
wrk_rps() {
  wrk -t"$2" -c"$1" -d"${seconds}s" -s "$work/post.lua" "$url" | awk '/Requests\/sec/ {print $2}'
}
ratio() { python3 -c "import sys; a,b=sys.argv[1],sys.argv[2]; print('%.2f' % (float(a)/float(b)) if a.replace('.','',1).isdigit() else '-')" "$1" "$2"; }

printf '%-6s %3s %11s %11s %11s %7s %7s | %11s %11s %7s\n' conns T "wrk -tT" "hey" "llmscale" "/wrk" "/hey" \
  "wrk -t1" "llmscale 1" "/wrk"
for c in $connections; do
  t=$((threads < c ? threads : c))
  wrk_n=$(wrk_rps "$c" "$t")
  hey_rps=$(hey -z "${seconds}s" -c "$c" -cpus "$t" -m POST -T application/json -D "$work/body.json" "$url" |
    awk '/Requests\/sec/ {print $2}')
  ours_n=$(ours "$c" "$t")
  wrk_1=$(wrk_rps "$c" 1)
  ours_1=$(ours "$c" 1)
  printf '%-6s %3s %11s %11s %11s %7s %7s | %11s %11s %7s\n' "$c" "$t" "$wrk_n" "$hey_rps" "$ours_n" \
    "$(ratio "$ours_n" "$wrk_n")" "$(ratio "$ours_n" "$hey_rps")" "$wrk_1" "$ours_1" "$(ratio "$ours_1" "$wrk_1")"
done

echo "== end-to-end SSE events/s (server thread + one client thread)"
"$build"/bench/loadgen_bench --sse-rate "$seconds"
echo "== TTFT/ITL timing error against the server's send times (100 tokens, 10 ms apart)"
for c in 1 64 256; do
  "$build"/bench/loadgen_bench --timing "$c" 100 10 $((c * 4 > 64 ? c * 4 : 64))
done
