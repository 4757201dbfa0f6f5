#!/usr/bin/env bash
# Sim-to-live agreement (issue 16): one scenario run twice, by `llmscale up` in real time (real
# serve-sim replicas, router, scraper, adapter, controller, `llmscale load` replaying a trace
# slice over HTTP) and by `llmscale simulate` on a simulated clock, then compared: TTFT and ITL
# p50/p90 (TPOT: time per output token after the first, per request), the HPA's replica count over time (replica-seconds, peak, first scale-up) and
# requests served. Prints one table and writes compare.json into OUT.
#
# Scenario: examples/sim/vllm-8b-h100 (vLLM V1, Llama 3.1 8B on H100, HPA on
# vllm:num_requests_running), maxReplicas MAX, a scale-down window of 30 s, 1 s scrapes, a COLD
# cold start; the trace slice is [START, START+MINUTES) of the Azure 2023 conversation trace at
# RATE times its rate, read by both tools from the same file.
#
# usage: bench/sim_vs_up.sh [OUT=<temp>]
# env: BUILD_DIR (default build) or LLMSCALE (the binary), MINUTES (2), START (10, minutes into the trace), RATE (3),
#      TARGET (8, running requests per replica), MAX (6), COLD (5s), TRACE.
# Exit status 0 when it ran; the comparison is the output (tests/sim/sim_live_test.cc bounds it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD_DIR:-build}
exe=${LLMSCALE:-$root/$build/llmscale}
[ -x "$exe" ] || { echo "sim_vs_up: no $exe (build llmscale first)" >&2; exit 1; }
minutes=${MINUTES:-2}
start=${START:-10}
rate=${RATE:-3}
target=${TARGET:-8}
max=${MAX:-6}
cold=${COLD:-5s}
trace=${TRACE:-$root/../shared/traces/azure2023/AzureLLMInferenceTrace_conv.csv}
out=${1:-$(mktemp -d)}
mkdir -p "$out"
up_pid=
cleanup() {
  if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then
    kill -TERM "$up_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$up_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$up_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# The scenario folder (both tools read it) and the trace slice.
sc=$out/scenario
mkdir -p "$sc"
ex=$root/examples/sim/vllm-8b-h100
cp "$ex/fleet.yaml" "$ex/podmonitoring.yaml" "$sc/"
cat > "$sc/hpa.yaml" <<EOF
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: vllm-8b
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: vllm-8b}
  minReplicas: 1
  maxReplicas: $max
  metrics:
  - type: Pods
    pods:
      metric: {name: "prometheus.googleapis.com|vllm:num_requests_running|gauge"}
      target: {type: AverageValue, averageValue: $target}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 30}
EOF
python3 - "$trace" "$out/slice.csv" "$start" "$minutes" <<'EOF'
import csv, sys
from datetime import datetime, timedelta
src, dst, start, minutes = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
with open(src) as f, open(dst, "w", newline="") as g:
    rows = csv.reader(f)
    w = csv.writer(g, lineterminator="\n")
    w.writerow(next(rows))
    first = None
    for r in rows:
        t = datetime.strptime(r[0][:26], "%Y-%m-%d %H:%M:%S.%f")
        first = first or t
        if first + timedelta(minutes=start) <= t < first + timedelta(minutes=start + minutes):
            w.writerow(r)
EOF

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Live: up with its replicas; the load starts once the first replica is ready; up exits once
# the load is done and the HPA is back at minReplicas (or after a bound).
(cd "$out" && exec "$exe" up "$sc" --router-listen "127.0.0.1:$(free_port)" \
  --control-listen "127.0.0.1:$(free_port)" --state-dir "$out/state" --serve-sim-startup "$cold" \
  --scrape-interval 1s --stop-when-scaled-down --stop-after "$((minutes * 60 + 150))s" --quiet \
  --load "load --url {router} --api openai-completions --streaming --ignore-eos --trace $out/slice.csv --rate-scale $rate --report-json $out/live.json -q" \
  > "$out/up.log" 2>&1) &
up_pid=$!
wait "$up_pid" || { echo "sim_vs_up: up failed; tail of $out/up.log:" >&2; tail -20 "$out/up.log" >&2; exit 1; }
up_pid=

# Simulated: the same folder and slice.
"$exe" simulate "$sc" --trace "$out/slice.csv" --rate-scale "$rate" --cold-start "$cold" \
  --scrape-interval 1s --tail 1m --progress never --out "$out/sim" > "$out/sim.log"

python3 - "$out" <<'EOF'
import csv, json, re, sys
from datetime import datetime
out = sys.argv[1]
live = json.load(open(f"{out}/live.json"))
sim = json.load(open(f"{out}/sim/summary.json"))

lv = live["stages"][0]
# Live replica timeline: up's log, "hpa NS/NAME: A -> B (...)", relative to "load: started".
stamp = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)")
t0, steps = None, []
for line in open(f"{out}/up.log"):
    m = stamp.match(line)
    if not m:
        continue
    t = datetime.strptime(m.group(1)[:26], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
    if "load: started" in line and t0 is None:
        t0 = t
    r = re.search(r"hpa \S+: (\d+) -> (\d+)", line)
    if r and t0 is not None:
        steps.append((t - t0, int(r.group(2))))
sim_steps = [(float(r["t_s"]), int(r["to"])) for r in csv.DictReader(open(f"{out}/sim/scale_events.csv"))]

def timeline(steps, horizon):
    seconds, peak, current, last = 0.0, 1, 1, 0.0
    for t, n in steps:
        t = min(max(t, 0.0), horizon)
        seconds += current * (t - last)
        current, last = n, t
        peak = max(peak, n)
    seconds += current * (horizon - last)
    first_up = next((t for t, n in steps if n > 1), None)
    return {"replicaSeconds": seconds, "peak": peak, "firstScaleUp": first_up, "events": len(steps)}

horizon = float(sim["durationSeconds"])
rows = []
def pair(name, a, b):
    rel = None if a in (None, 0) or b is None else (b - a) / a
    rows.append({"measure": name, "live": a, "sim": b, "relative": rel})

ttft_l, tpot_l = lv["metrics"]["ttft_ms"], lv["metrics"]["tpot_ms"]
for q in ("p50", "p90"):
    pair(f"TTFT {q} (s)", ttft_l[q] / 1e3, sim["ttftSeconds"].get(q))
for q in ("p50", "p90"):
    pair(f"TPOT {q} (s)", tpot_l[q] / 1e3, sim["tpotSeconds"].get(q))
tl, ts = timeline(steps, horizon), timeline(sim_steps, horizon)
for k in ("replicaSeconds", "peak", "firstScaleUp"):
    pair(k, tl[k], ts[k])
pair("requests ok", lv["requests"]["succeeded"], sim["requests"]["ok"])
json.dump({"rows": rows, "liveSteps": steps, "simSteps": sim_steps}, open(f"{out}/compare.json", "w"), indent=1)
print(f"{'measure':<20} {'live':>10} {'sim':>10} {'sim vs live':>12}")
for r in rows:
    fmt = lambda v: "-" if v is None else f"{v:10.4g}"
    rel = "-" if r["relative"] is None else f"{100 * r['relative']:+.1f} %"
    print(f"{r['measure']:<20} {fmt(r['live'])} {fmt(r['sim'])} {rel:>12}")
print(f"(outputs in {out})")
EOF
