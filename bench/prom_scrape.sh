#!/usr/bin/env bash
# Scraping N loopback targets at a fixed interval: CPU used by the scraper and scrape lag.
#
#   bench/prom_scrape.sh [N=1000] [INTERVAL=1s] [SECONDS=30] [WHO=llmscale|prometheus|both]
#
# N targets (bench/prom_scrape_targets.py: ~52 KB vLLM V1-shaped pages, keep-alive) are scraped
# by `build/llmscale collect` and/or Debian's `prometheus` with the same prometheus.yml. After a
# 10 s warm-up, for SECONDS seconds it measures:
#   - CPU: utime+stime of the scraper process (/proc/PID/stat) over wall time, in cores;
#   - scrapes/s: increase of prometheus_target_scrapes_total (ours) or of the sum of
#     prometheus_target_interval_length_seconds_count (Prometheus) — vs N/INTERVAL nominal;
#   - lag: max over targets of time() - timestamp(up), sampled every second through the query
#     API: how old the newest scrape of the worst target is (ideal: <= INTERVAL + duration);
#   - scrape duration: quantiles of scrape_duration_seconds across targets at the end;
#   - with `hey` installed: latency of the adapter's avg-by-pod query over HTTP, while scraping.
# Processes are started and stopped by PID; ports are free loopback ports.
set -euo pipefail
N=${1:-1000}
INTERVAL=${2:-1s}
SECONDS_TO_RUN=${3:-30}
WHO=${4:-llmscale}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LLMSCALE_BIN:-$ROOT/build/llmscale}
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)
query() {  # PORT EXPR [TIME] -> the first value of an instant vector / scalar
  curl -sf --max-time 10 "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" \
    --data-urlencode "time=${3:-$(date +%s.%N)}" |
    grep -o '"value":\[[^]]*\]' | head -1 | sed 's/.*,"\(.*\)"\]/\1/'
}

python3 "$ROOT/bench/prom_scrape_targets.py" "$N" "$TMP/ports" >"$TMP/targets.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 600); do [ -f "$TMP/ports" ] && break; sleep 0.1; done
[ -f "$TMP/ports" ] || { echo "targets did not start"; cat "$TMP/targets.log"; exit 1; }
{
  echo "global: {scrape_interval: $INTERVAL, scrape_timeout: $INTERVAL}"
  echo "scrape_configs:"
  echo "- job_name: vllm"
  echo "  static_configs:"
  i=0
  while read -r port; do
    echo "  - targets: ['127.0.0.1:$port']"
    echo "    labels: {pod: vllm-$i}"
    i=$((i + 1))
  done <"$TMP/ports"
} >"$TMP/prometheus.yml"

run_one() {  # WHO
  local who=$1 port pid
  port=$(free_port)
  if [ "$who" = llmscale ]; then
    "$BIN" collect --config "$TMP/prometheus.yml" --listen "127.0.0.1:$port" --retention 2m \
      >"$TMP/$who.log" 2>&1 &
    pid=$!
  else
    mkdir -p "$TMP/tsdb"
    prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
      --web.listen-address="127.0.0.1:$port" --log.level=warn >"$TMP/$who.log" 2>&1 &
    pid=$!
  fi
  PIDS+=("$pid")
  sleep 10
  local c0 c1 t0 t1 s0 s1 lag maxlag=0
  s0=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^prometheus_target_scrapes_total |^prometheus_target_interval_length_seconds_count/ {s+=$2} END {print s+0}')
  c0=$(ticks "$pid")
  t0=$(date +%s.%N)
  for _ in $(seq "$SECONDS_TO_RUN"); do
    sleep 1
    lag=$(query "$port" 'max(time() - timestamp(up))')
    maxlag=$(awk -v a="$maxlag" -v b="${lag:-0}" 'BEGIN {print (b > a ? b : a)}')
  done
  c1=$(ticks "$pid")
  t1=$(date +%s.%N)
  s1=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^prometheus_target_scrapes_total |^prometheus_target_interval_length_seconds_count/ {s+=$2} END {print s+0}')
  local rss up q50 q99 qmax
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  local at
  at=$(date +%s.%N)
  up=$(query "$port" 'sum(up)' "$at")
  q50=$(query "$port" 'quantile(0.5, scrape_duration_seconds)' "$at")
  q99=$(query "$port" 'quantile(0.99, scrape_duration_seconds)' "$at")
  qmax=$(query "$port" 'max(scrape_duration_seconds)' "$at")
  python3 - "$who" "$N" "$INTERVAL" "$c0" "$c1" "$t0" "$t1" "$s0" "$s1" "$clk_tck" "$maxlag" "$rss" "$up" "$q50" "$q99" "$qmax" <<'EOF'
import sys
who, n, interval, c0, c1, t0, t1, s0, s1, tck, maxlag, rss, up, q50, q99, qmax = sys.argv[1:]
wall = float(t1) - float(t0)
cores = (float(c1) - float(c0)) / float(tck) / wall
rate = (float(s1) - float(s0)) / wall
print(f"{who}: {n} targets every {interval}: CPU {cores:.3f} cores, scrapes/s {rate:.0f} "
      f"(nominal {int(n) / float(interval.rstrip('s')):.0f}), up {up}, "
      f"max(time()-timestamp(up)) {float(maxlag):.3f} s, scrape_duration p50 {float(q50)*1e3:.2f} ms "
      f"p99 {float(q99)*1e3:.2f} ms max {float(qmax)*1e3:.2f} ms, RSS {int(rss)/1024:.0f} MiB")
EOF
  # The adapter's query over HTTP while scraping goes on: one client, sequential requests.
  if command -v hey >/dev/null; then
    local url="http://127.0.0.1:$port/api/v1/query?query=avg%28vllm%3Anum_requests_waiting%29%20by%20%28pod%29"
    echo "$who: GET /api/v1/query avg(vllm:num_requests_waiting) by (pod) over $N pods, hey -n 500 -c 1:"
    hey -n 500 -c 1 "$url" | grep -E 'Average:|Requests/sec|(50|90|99)% in|^ +\[[0-9]+\][[:space:]]+[0-9]+ responses'
  fi
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$WHO" = llmscale ] || [ "$WHO" = both ]; then run_one llmscale; fi
if [ "$WHO" = prometheus ] || [ "$WHO" = both ]; then run_one prometheus; fi
