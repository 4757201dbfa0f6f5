#!/usr/bin/env bash
# Reaction time of `llmscale up`: from the load step (the `load: started` log) to the scale-up
# command (the first `hpa NS/NAME: 1 -> N` log), in two modes in the same run:
#   fast   llmscale's mode: --scrape-interval 1s, reconcile right after each scrape
#   seeds  the seeds' pipeline emulated: --scrape-interval 15s, --no-post-scrape-reconcile,
#          --sync-period 15s (kube-controller-manager's default)
# Each repetition starts the load at a different phase of the scrape/sync ticks
# (--load-delay spread over one 15 s period, plus a sub-second shift), so min/median/max cover
# the best and the worst phase.
# usage: bench/up_reaction.sh [REPS=3] [EXAMPLE=examples/nim-gpu] [CONCURRENCY=200]
# env: BUILD_DIR (default build; a Release build: cmake -S . -B build -G Ninja
#      -DCMAKE_BUILD_TYPE=Release && ninja -C build -j2 llmscale), MODES (default "fast seeds").
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
example=${2:-examples/nim-gpu}
concurrency=${3:-200}
modes=${MODES:-"fast seeds"}
build=${BUILD_DIR:-build}
exe=$build/llmscale
[ -x "$exe" ] || { echo "no $exe: build it first (see the header)" >&2; exit 1; }

work=$(mktemp -d)
up_pid=
poll_pid=
# Every process this script starts, directly (up) or through up (replicas, load), by PID.
kill_tree() {
  local pids pid
  if [ -n "$poll_pid" ]; then
    kill "$poll_pid" 2>/dev/null || true
    wait "$poll_pid" 2>/dev/null || true
    poll_pid=
  fi
  [ -n "$up_pid" ] || return 0
  if kill -0 "$up_pid" 2>/dev/null; then
    kill -TERM "$up_pid" 2>/dev/null || true
    # up drains its fleet (grace period) and stops the load; give it 20 s, then SIGKILL.
    for _ in $(seq 200); do kill -0 "$up_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$up_pid" 2>/dev/null || true
  fi
  wait "$up_pid" 2>/dev/null || true
  # Children up may have left behind if it had to be SIGKILLed: the replicas and the load it
  # logged, only while their command line is still ours.
  pids=$(grep -oE '(started \(pid|load: started \(pid) [0-9]+' "$work/up.err" 2>/dev/null |
    grep -oE '[0-9]+$' || true)
  for pid in $pids; do
    if { tr "\0" " " <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q llmscale; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  up_pid=
}
cleanup() {
  kill_tree
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Milliseconds since the epoch of a log line "2025-01-01T00:00:00.123 info ...".
log_ms() {
  python3 -c 'import sys,datetime; t=sys.argv[1]; print(int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f").timestamp()*1000))' "$1"
}

# Polls the first replica's /metrics every 100 ms and prints when (epoch ms) the HPA's metric
# first exceeds target x 1.1 (the HPA's tolerance): the moment a scrape could first trigger.
cat >"$work/poll.py" <<'EOF'
import re, sys, time, urllib.request
url, name, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3])
pattern = re.compile(r"^" + re.escape(name) + r"(?:\{[^}]*\})? (\S+)", re.M)
deadline = time.time() + 150
while time.time() < deadline:
    try:
        page = urllib.request.urlopen(url, timeout=1).read().decode()
        m = pattern.search(page)
        if m and float(m.group(1)) > threshold:
            print(int(time.time() * 1000), m.group(1), flush=True)
            break
    except Exception:
        pass
    time.sleep(0.1)
EOF

load="--api openai-chat --streaming --url {router} -m meta/llama-3.1-8b-instruct"
load+=" --input-tokens-mean 200 --output-tokens-mean 200 --ignore-eos"
load+=" --concurrency $concurrency --duration 90s"
echo "# $exe up $example, load: llmscale load $load"
echo "# $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A results pipeline
for mode in $modes; do
  case $mode in
  fast) mode_args=(--scrape-interval 1s) ;;
  seeds) mode_args=(--scrape-interval 15s --no-post-scrape-reconcile --sync-period 15s) ;;
  *) echo "unknown mode $mode (fast|seeds)" >&2; exit 2 ;;
  esac
  for rep in $(seq "$reps"); do
    delay_ms=$(( (rep - 1) * 15000 / reps + (rep - 1) * 370 % 1000 ))
    state=$work/state-$mode-$rep
    mkdir -p "$state"
    : >"$work/up.err"
    # The scale-up must come within 60 s of the load (two 15 s scrapes + two 15 s syncs).
    "$exe" up "$example" --serve-sim-startup 2s "${mode_args[@]}" \
      --router-listen "127.0.0.1:$(free_port)" --control-listen "127.0.0.1:$(free_port)" \
      --load "$load" --load-delay "${delay_ms}ms" --stop-after "$(( delay_ms / 1000 + 90 ))s" \
      --state-dir "$state" >"$work/up.out" 2>"$work/up.err" &
    up_pid=$!
    for _ in $(seq 100); do grep -q 'started (pid' "$work/up.err" && break; sleep 0.05; done
    port=$(grep -m1 -oE 'started \(pid [0-9]+, port [0-9]+' "$work/up.err" | grep -oE '[0-9]+$' || true)
    : >"$work/cross"
    if [ -n "$port" ]; then
      python3 "$work/poll.py" "http://127.0.0.1:$port/metrics" gpu_cache_usage_perc 0.11 \
        >"$work/cross" 2>/dev/null &
      poll_pid=$!
    fi
    deadline=$(( SECONDS + delay_ms / 1000 + 90 ))
    while [ $SECONDS -lt $deadline ] && kill -0 "$up_pid" 2>/dev/null; do
      grep -qE 'hpa [^ ]+: 1 -> [0-9]+' "$work/up.err" && break
      sleep 0.2
    done
    started=$(grep -m1 'load: started' "$work/up.err" | cut -d' ' -f1 || true)
    scaled=$(grep -m1 -E 'hpa [^ ]+: 1 -> [0-9]+' "$work/up.err" || true)
    kill_tree
    if [ -z "$started" ] || [ -z "$scaled" ]; then
      echo "$mode rep $rep: no scale-up (load started: ${started:-no}); log tail:" >&2
      tail -20 "$work/up.err" >&2
      continue
    fi
    started_ms=$(log_ms "$started")
    scaled_ms=$(log_ms "${scaled%% *}")
    ms=$(( scaled_ms - started_ms ))
    results[$mode]+="$ms "
    cross=$(cut -d' ' -f1 "$work/cross")
    if [ -n "$cross" ]; then
      pipeline[$mode]+="$(( scaled_ms - cross )) "
      cross="$(( cross - started_ms )) ms, pipeline $(( scaled_ms - cross )) ms"
    else
      cross="not seen"
    fi
    printf '%-5s rep %d  load-delay %5d ms  reaction %6d ms  (metric > 110m after %s)  %s\n' \
      "$mode" "$rep" "$delay_ms" "$ms" "$cross" "$(echo "$scaled" | sed -E 's/^[^ ]+ [^ ]+ //')"
  done
done

echo
echo "mode   what                                 runs  min / median / max (s)"
for mode in $modes; do
  for what in results pipeline; do
    if [ $what = results ]; then values=${results[$mode]:-}; label="load started -> scale-up"
    else values=${pipeline[$mode]:-}; label="metric > 110m -> scale-up (pipeline)"; fi
    python3 - "$mode" "$label" $values <<'EOF'
import statistics, sys
mode, label, ms = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]
stats = "-" if not ms else f"{min(ms)/1000:.2f} / {statistics.median(ms)/1000:.2f} / {max(ms)/1000:.2f}"
print(f"{mode:<6} {label:<36} {len(ms):<5} {stats}")
EOF
  done
done
