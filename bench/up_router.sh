#!/usr/bin/env bash
# The router's added latency per request and its requests/s inside `llmscale up`: one up stack
# (router, 1 s scraper, adapter, controller on up's one event-loop thread) with a single
# simulated NIM replica whose steps take no time (bench/server_zero_time.yaml), so a request
# costs only HTTP/JSON work. `llmscale load` sends short non-streaming completions (16 tokens
# in, 16 out) first straight to the replica's port (from the `pod X started (pid N, port P)` log),
# then to the router, at each concurrency; the HPA has maxReplicas 1, so both reach the same
# replica. Added latency = router p50/p99 minus direct p50/p99.
# usage: bench/up_router.sh [SECONDS=10] [CONCURRENCY="1 50"]
# env: BUILD_DIR (default build, a Release build: cmake -S . -B build -G Ninja
#      -DCMAKE_BUILD_TYPE=Release && ninja -C build -j2 llmscale).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
concurrency=${2:-"1 50"}
build=${BUILD_DIR:-build}
exe=$build/llmscale
[ -x "$exe" ] || { echo "no $exe: build it first (see the header)" >&2; exit 1; }

work=$(mktemp -d)
up_pid=
cleanup() {
  local pids pid
  if [ -n "$up_pid" ]; then
    kill -TERM "$up_pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$up_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
    # Replicas left behind only if up had to be SIGKILLed: by the PIDs it logged.
    pids=$(grep -oE 'started \(pid [0-9]+' "$work/up.err" 2>/dev/null | grep -oE '[0-9]+$' || true)
    for pid in $pids; do
      if { tr "\0" " " <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q llmscale; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

mkdir -p "$work/config" "$work/state"
cp examples/nim-gpu/adapter-config.yaml examples/nim-gpu/podmonitoring.yaml "$work/config/"
cat >"$work/config/fleet.yaml" <<EOF
apiVersion: llmscale.io/v1alpha1
kind: Fleet
metadata:
  name: zero-time
  labels: {app: zero-time}
spec:
  replicas: 1
  selector:
    matchLabels: {app: zero-time}
  template:
    metadata:
      labels: {app: zero-time}
    spec:
      serveSim:
        flavor: nim
        profile: $PWD/bench/server_zero_time.yaml
        args: [--model, meta/llama-3.1-8b-instruct]
      ports:
      - {name: http, containerPort: 8000}
      readinessProbe:
        httpGet: {path: /v1/health/ready, port: http}
        periodSeconds: 1
        failureThreshold: 3
      terminationGracePeriodSeconds: 5
EOF
cat >"$work/config/hpa.yaml" <<'EOF'
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: zero-time
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: zero-time}
  minReplicas: 1
  maxReplicas: 1
  metrics:
  - type: Pods
    pods:
      metric: {name: gpu_cache_usage_perc}
      target: {type: AverageValue, averageValue: 100m}
EOF

router_port=$(free_port)
router=http://127.0.0.1:$router_port
"$exe" up "$work/config" --serve-sim-startup 0s --scrape-interval 1s --quiet \
  --router-listen "127.0.0.1:$router_port" --control-listen "127.0.0.1:$(free_port)" \
  --state-dir "$work/state" --stop-after "$(( seconds * 4 * $(echo "$concurrency" | wc -w) + 60 ))s" \
  >"$work/up.out" 2>"$work/up.err" &
up_pid=$!
for _ in $(seq 300); do
  curl -fsS "$router/v1/health/ready" >/dev/null 2>&1 && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.err" >&2; exit 1; }
  sleep 0.1
done
port=$(grep -m1 -oE 'started \(pid [0-9]+, port [0-9]+' "$work/up.err" | grep -oE '[0-9]+$')
direct=http://127.0.0.1:$port
for _ in $(seq 100); do curl -fsS "$router/v1/models" >/dev/null 2>&1 && break; sleep 0.1; done
echo "# $exe up (1 replica, zero-time profile), replica $direct, router $router"
echo "# $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A p50 p99
printf '%-7s %5s %10s %9s %9s %7s\n' target conc 'req/s' 'p50 ms' 'p99 ms' failed
for c in $concurrency; do
  for target in direct router; do
    if [ "$target" = direct ]; then base=$direct; else base=$router; fi
    timeout $(( seconds * 3 + 30 )) "$exe" --log-level warn load --url "$base" \
      --api openai-completions -m meta/llama-3.1-8b-instruct --input-tokens-mean 16 \
      --output-tokens-mean 16 --ignore-eos --concurrency "$c" --warmup 1s \
      --duration "${seconds}s" --report-json "$work/$target-$c.json" >"$work/load.out" 2>&1 ||
      { cat "$work/load.out" >&2; exit 1; }
    read -r rps a b failed < <(python3 - "$work/$target-$c.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["stages"][0]
if s["requests"]["failed"]:
    sys.exit(f"{sys.argv[1]}: {s['errors']} {s.get('error_samples')}")
e = s["metrics"]["e2e_ms"]
print(s["throughput"]["requests_per_s"], e["p50"], e["p99"], s["requests"]["failed"])
EOF
    )
    p50[$target]=$a
    p99[$target]=$b
    printf '%-7s %5s %10.0f %9.3f %9.3f %7s\n' "$target" "$c" "$rps" "$a" "$b" "$failed"
  done
  python3 -c 'import sys; a=[float(x) for x in sys.argv[1:]]; print("added  %5s %10s %9.3f %9.3f" % ("", "", a[1]-a[0], a[3]-a[2]))' \
    "${p50[direct]}" "${p50[router]}" "${p99[direct]}" "${p99[router]}"
done
curl -fsS "$router/metrics" | grep -E '^llmscale_router_(requests_total|errors_total|retries_total)' || true
