#!/usr/bin/env bash
# The adapter's wildcard pods query over 1,000 pods (the HPA's Pods-metric request), embedded
# backend, measured with hey and wrk over HTTPS on loopback, asking for gzip (as Go clients,
# and so Kubernetes' HPA through the aggregator, do) and without.
# Usage: bench/adapter_hey.sh [BUILD_DIR] [PODS] [REQUESTS] [CONCURRENCY]
# WRK_DURATION (default 10s) sets each wrk run's length.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
pods=${2:-1000}
requests=${3:-20000}
concurrency=${4:-16}
dir=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT

{
  echo "# TYPE vllm:num_requests_waiting gauge"
  for i in $(seq 1 "$pods"); do
    echo "vllm:num_requests_waiting{namespace=\"llm\",pod=\"vllm-$i\",model_name=\"m\"} $((i % 17))"
  done
} > "$dir/metrics.prom"
{
  echo "apiVersion: v1"
  echo "kind: List"
  echo "items:"
  for i in $(seq 1 "$pods"); do
    echo "- {apiVersion: v1, kind: Pod, metadata: {name: vllm-$i, namespace: llm, labels: {app: vllm}}}"
  done
} > "$dir/pods.yaml"
cat > "$dir/rules.yaml" <<'RULES'
rules:
- seriesQuery: '{__name__=~"^vllm:.*",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: "^vllm:(.*)$", as: "${1}"}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
RULES

"$build/llmscale" --log-level warn adapter --config "$dir/rules.yaml" --metrics "$dir/metrics.prom" \
  --objects "$dir/pods.yaml" --secure-port 0 --bind-address 127.0.0.1 --cert-dir "$dir/certs" \
  --authorization-mode AlwaysAllow > "$dir/out" &
pid=$!
for _ in $(seq 1 100); do grep -q "serving on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/.*serving on \(https:[^ ]*\).*/\1/p' "$dir/out")
url="$base/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting?labelSelector=app%3Dvllm"
items=$(curl -sk "$url" | grep -o '"describedObject"' | wc -l)
echo "pods=$pods items_per_answer=$items bytes_per_answer=$(curl -sk "$url" | wc -c)" \
  "gzip_bytes_per_answer=$(curl -sk -H 'Accept-Encoding: gzip' "$url" | wc -c)"
duration=${WRK_DURATION:-10s}
summary="Requests/sec|Average|Slowest|Fastest|  (50|90|99)%|Status code|Error"
# hey's Go Transport asks for gzip unless told not to, as client-go does.
echo "== hey -n $requests -c $concurrency (Accept-Encoding: gzip)"
hey -n "$requests" -c "$concurrency" "$url" | grep -E -A3 "$summary" || true
echo "== hey -n $requests -c $concurrency -disable-compression"
hey -n "$requests" -c "$concurrency" -disable-compression "$url" | grep -E -A3 "$summary" || true
echo "== wrk -t2 -c $concurrency -d$duration --latency"
wrk -t2 -c "$concurrency" -d"$duration" --latency "$url" | grep -E "Requests/sec|Latency|  (50|90|99)%" || true
echo "== wrk -t2 -c $concurrency -d$duration --latency -H 'Accept-Encoding: gzip'"
wrk -t2 -c "$concurrency" -d"$duration" --latency -H 'Accept-Encoding: gzip' "$url" |
  grep -E "Requests/sec|Latency|  (50|90|99)%" || true
echo "== adapter CPU seconds: $(ps -o cputime= -p "$pid")"
