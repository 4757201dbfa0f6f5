#!/usr/bin/env python3
"""Fits the roofline efficiencies of the engine's step-time model (docs/engine-model.md) to the
measured profiles, with the standard library only (no numpy on the build machine).

  bench/engine_fit.py [SHARED_PROFILES_DIR]   (default ../shared/profiles beside the repo;
                                              about 4 minutes: a 0.01 grid per data set)

1. Vidur non-attention linear ops (derived_vidur_linear_ops_per_step_ms.csv): per device/model/TP,
   grid-search eta_bw, eta_fl and the overlap exponent p of
       t(T) = (m^p + c^p)^(1/p),  m = W / (eta_bw BW),  c = 2 N T / (eta_fl F)
   W, N: linear weight bytes and parameters per device (embedding and LM head excluded, as in
   the profile). Reports the fit and its mean/max relative error over T = 1..8192.
2. Vidur all-reduce (network/*/all_reduce.csv.gz): least squares of latency + bytes / bandwidth.
The constants chosen for profiles/accelerators/*.yaml and profiles/*.yaml are printed last.
"""
import csv
import gzip
import math
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared",
                                                              "profiles")
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/profiles"

# layers, hidden, q heads, kv heads, head dim, ffn
SHAPES = {
    "Llama-2-7b-hf": (32, 4096, 32, 32, 128, 11008),
    "Llama-2-70b-hf": (80, 8192, 64, 8, 128, 28672),
    "Meta-Llama-3-8B": (32, 4096, 32, 8, 128, 14336),
    "Meta-Llama-3-70B": (80, 8192, 64, 8, 128, 28672),
}
DEVICES = {"a100": (2.039e12, 312e12), "h100": (3.35e12, 989e12)}


def linear_params_per_device(model, tp):
    layers, h, qh, kvh, d, ffn = SHAPES[model]
    per_layer = h * (qh + 2 * kvh) * d + qh * d * h + 3 * h * ffn
    return layers * per_layer / tp


def pnorm(a, b, p):
    hi, lo = max(a, b), min(a, b)
    return hi * (1 + (lo / hi) ** p) ** (1 / p)


def fit_linear():
    rows = defaultdict(list)
    with open(os.path.join(SHARED, "derived_vidur_linear_ops_per_step_ms.csv")) as f:
        for r in csv.DictReader(f):
            t = int(r["num_tokens"])
            if t <= 8192:
                rows[(r["device"], r["model"], int(r["tensor_parallel"]))].append(
                    (t, float(r["linear_ops_all_layers_ms"])))
    fits = {}
    for key in sorted(rows):
        dev, model, tp = key
        bw, fl = DEVICES[dev]
        n = linear_params_per_device(model, tp)
        pts = rows[key]
        best = None
        for ebw in [x / 100 for x in range(30, 101, 1)]:
            m = 2 * n / (ebw * bw) * 1e3
            for efl in [x / 100 for x in range(30, 101, 1)]:
                for p in (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0):
                    errs = [abs(pnorm(m, 2 * n * t / (efl * fl) * 1e3, p) - y) / y for t, y in pts]
                    e = sum(errs) / len(errs)
                    if best is None or e < best[0]:
                        best = (e, max(errs), ebw, efl, p)
        fits[key] = best
        print(f"linear {dev:5s} {model:17s} TP{tp}: eta_bw={best[2]:.2f} eta_fl={best[3]:.2f} "
              f"p={best[4]:.2f}  mean err {best[0]*100:.1f}%  max {best[1]*100:.1f}%  "
              f"({len(pts)} points)")
    return fits, rows


def shared_fit(rows, dev, keys):
    """One (eta_bw, eta_fl, p) for all models of a device, as a profile ships it."""
    bw, fl = DEVICES[dev]
    best = None
    for ebw in [x / 100 for x in range(40, 96, 2)]:
        for efl in [x / 100 for x in range(40, 96, 2)]:
            for p in (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0):
                errs = []
                for key in keys:
                    n = linear_params_per_device(key[1], key[2])
                    m = 2 * n / (ebw * bw) * 1e3
                    errs += [abs(pnorm(m, 2 * n * t / (efl * fl) * 1e3, p) - y) / y
                             for t, y in rows[key]]
                e = sum(errs) / len(errs)
                if best is None or e < best[0]:
                    best = (e, max(errs), ebw, efl, p)
    print(f"shared {dev}: eta_bw={best[2]:.2f} eta_fl={best[3]:.2f} p={best[4]:.2f} "
          f"mean err {best[0]*100:.1f}% max {best[1]*100:.1f}% over {len(keys)} model/TP sets")
    return best


def fit_allreduce():
    for node in ("h100_dgx",):  # the a100_dgx file mixes node layouts; no single fit
        path = os.path.join(SHARED, "vidur", "network", node, "all_reduce.csv.gz")
        by_w = defaultdict(list)
        with gzip.open(path, "rt") as f:
            for r in csv.DictReader(f):
                if r["rank"] != "0":
                    continue
                size = float(r["size"])
                if size > 64e6:  # the last point of some series is an outlier (11 ms at 64 MiB)
                    continue
                by_w[int(r["num_workers"])].append((size, float(r["time_stats.all_reduce.median"])))
        for w in sorted(by_w):
            pts = by_w[w]
            nn = len(pts)
            sx = sum(x for x, _ in pts)
            sy = sum(y for _, y in pts)
            sxx = sum(x * x for x, _ in pts)
            sxy = sum(x * y for x, y in pts)
            slope = (nn * sxy - sx * sy) / (nn * sxx - sx * sx)
            icpt = (sy - slope * sx) / nn
            errs = [abs(icpt + slope * x - y) / y for x, y in pts]
            print(f"allreduce {node} TP{w}: latency {icpt*1e3:.1f} us, bandwidth "
                  f"{1e-6/slope:.0f} GB/s, mean err {sum(errs)/nn*100:.1f}% ({nn} points)")


H100_PT = os.path.join(HERE, "..", "profiles", "measured", "h100-pytorch-llama.csv")
PT_SHAPES = {  # layers, hidden, q heads, kv heads, head dim, ffn, vocab (per GPU)
    "llama-3.1-8b": (32, 4096, 32, 8, 128, 14336, 128256),
    "llama-3.1-70b-tp4-shard": (80, 8192, 16, 2, 128, 7168, 128256 // 4),
}


def step_model(shape, kind, batch, ctx, tokens, eb, ef, p, eab, eaf, bw=3.35e12, fl=989e12):
    """The engine's step-time model (src/engine/step_time.cc) with cpu = 0 and no all-reduce."""
    layers, h, qh, kvh, d, ffn, vocab = shape
    block = layers * (h * (qh + 2 * kvh) * d + qh * d * h + 3 * h * ffn)
    head = h * vocab
    w = (block + head) * 2
    kvb = 2 * layers * kvh * d * 2
    if kind == "decode":
        t, s, kread, units = batch, batch, batch * (ctx + 1), 0.0
    else:
        t, s, kread, units = tokens, 1, 0, tokens * tokens / 2
    m = w / (eb * bw)
    c = 2 * (block * t + head * s) / (ef * fl)
    gemm = pnorm(m, c, p)
    attn = kread * kvb / (eab * bw) + 4 * layers * qh * d * units / (eaf * fl)
    return (gemm + attn) * 1e3


def fit_h100_pytorch(eb, ef, p):
    rows = []
    with open(H100_PT) as f:
        for r in csv.DictReader(f):
            if r["kind"] in ("decode", "prefill"):
                rows.append((r["kind"], r["model"], int(r["batch"]), int(r["context"]),
                             int(r["tokens"]), float(r["ms_median"])))
    best = None
    for eab in [x / 100 for x in range(40, 101, 2)]:
        for eaf in [x / 100 for x in range(20, 101, 2)]:
            errs = [abs(step_model(PT_SHAPES[m], k, b, c, t, eb, ef, p, eab, eaf) - y) / y
                    for k, m, b, c, t, y in rows]
            e = sum(errs) / len(errs)
            if best is None or e < best[0]:
                best = (e, eab, eaf)
    _, eab, eaf = best
    print(f"h100 pytorch (linear eta_bw={eb} eta_fl={ef} p={p}): attention_bandwidth={eab:.2f} "
          f"attention_flops={eaf:.2f}, mean err {best[0]*100:.1f}%")
    for k, m, b, c, t, y in rows:
        pred = step_model(PT_SHAPES[m], k, b, c, t, eb, ef, p, eab, eaf)
        print(f"  {k:7s} {m:24s} batch {b:4d} ctx {c:5d} tokens {t:6d}: measured {y:8.2f} ms"
              f"  model {pred:8.2f} ms  err {100*(pred-y)/y:+6.1f}%")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "pytorch":
        fit_h100_pytorch(0.71, 0.65, 1.25)
        sys.exit(0)
    fits, rows = fit_linear()
    shared_fit(rows, "h100", [k for k in rows if k[0] == "h100"])
    shared_fit(rows, "a100", [k for k in rows if k[0] == "a100"])
    shared_fit(rows, "h100", [k for k in rows if k[0] == "h100" and k[2] in (1, 4)])
    shared_fit(rows, "a100", [k for k in rows if k[0] == "a100" and k[1].startswith("Meta")])
    fit_allreduce()
    fit_h100_pytorch(0.71, 0.65, 1.25)
