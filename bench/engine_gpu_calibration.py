#!/usr/bin/env python3
"""Times a Llama-shaped decoder with random weights on one GPU (PyTorch, bf16) to calibrate the
engine's step-time model (docs/engine-model.md, "GPU calibration").

Not a serving engine: one forward step per measurement, CUDA graphs for every shape (as vLLM
captures decode graphs), KV cache read through PyTorch's scaled_dot_product_attention. To fit
in one GPU, every layer reads the same KV buffer (per-layer KV is far larger than the L2 cache at
the shapes that matter, so the bytes moved are the same as with one buffer per layer).

Writes CSV rows to stdout-adjacent files in --out:
  kind,model,batch,context,tokens,ms_median,ms_min,ms_p90
kind: decode (batch sequences, one token each, reading `context` KV tokens each), prefill (one
sequence of `tokens` prompt tokens, causal attention), gemm (peak matmul), copy (HBM copy).
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

MODELS = {
    # name: layers, hidden, q heads, kv heads, head dim, ffn, vocab (per GPU for TP shards)
    "llama-3.1-8b": (32, 4096, 32, 8, 128, 14336, 128256),
    # one of four tensor-parallel shards of Llama-3.1-70B (heads, FFN and vocab split by 4);
    # all-reduce is not included (one GPU).
    "llama-3.1-70b-tp4-shard": (80, 8192, 16, 2, 128, 7168, 128256 // 4),
}


class Llama:
    def __init__(self, name, max_batch, max_ctx, dev):
        L, h, H, KV, D, F_, V = MODELS[name]
        self.L, self.h, self.H, self.KV, self.D, self.F, self.V = L, h, H, KV, D, F_, V
        dt = torch.bfloat16
        g = torch.Generator(device=dev)
        g.manual_seed(0)

        def rnd(*shape):
            t = torch.empty(*shape, dtype=dt, device=dev)
            t.normal_(0, 0.02, generator=g)
            return t

        self.layers = []
        for _ in range(L):
            self.layers.append(dict(
                n1=torch.ones(h, dtype=dt, device=dev),
                wqkv=rnd(h, (H + 2 * KV) * D),
                wo=rnd(H * D, h),
                n2=torch.ones(h, dtype=dt, device=dev),
                wgu=rnd(h, 2 * F_),
                wd=rnd(F_, h)))
        self.emb = rnd(V, h)
        self.nf = torch.ones(h, dtype=dt, device=dev)
        self.head = rnd(h, V)
        self.kc = torch.zeros(max_batch, KV, max_ctx, D, dtype=dt, device=dev)
        self.vc = torch.zeros(max_batch, KV, max_ctx, D, dtype=dt, device=dev)
        self.weight_bytes = sum(t.numel() * 2 for l in self.layers for t in l.values()) + \
            self.head.numel() * 2

    @staticmethod
    def norm(x, w):
        return F.rms_norm(x, (x.shape[-1],), w, 1e-5) if hasattr(F, "rms_norm") else \
            x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5).to(x.dtype) * w

    def rope(self, t, cos, sin):
        t1, t2 = t[..., : self.D // 2], t[..., self.D // 2:]
        return torch.cat((t1 * cos - t2 * sin, t2 * cos + t1 * sin), dim=-1)

    def decode(self, ids, ctx):
        """ids [B]; every sequence attends to `ctx` cached tokens plus itself."""
        B = ids.shape[0]
        x = self.emb[ids]
        cos = torch.ones(1, 1, self.D // 2, dtype=x.dtype, device=x.device)
        sin = torch.zeros_like(cos)
        for l in self.layers:
            a = self.norm(x, l["n1"]) @ l["wqkv"]
            q, k, v = a.split([self.H * self.D, self.KV * self.D, self.KV * self.D], dim=-1)
            q = self.rope(q.view(B, self.H, self.D), cos, sin)
            k = self.rope(k.view(B, self.KV, self.D), cos, sin)
            self.kc[:B, :, ctx] = k
            self.vc[:B, :, ctx] = v.view(B, self.KV, self.D)
            # GQA: the G query heads of one KV head form a length-G query over that KV head.
            qg = q.view(B, self.KV, self.H // self.KV, self.D)
            o = F.scaled_dot_product_attention(qg, self.kc[:B, :, : ctx + 1],
                                               self.vc[:B, :, : ctx + 1])
            x = x + o.reshape(B, self.H * self.D) @ l["wo"]
            gu = self.norm(x, l["n2"]) @ l["wgu"]
            gt, up = gu.chunk(2, dim=-1)
            x = x + (F.silu(gt) * up) @ l["wd"]
        return torch.argmax(self.norm(x, self.nf) @ self.head, dim=-1)

    def prefill(self, ids):
        """ids [T]: one prompt, causal attention, logits for the last token only."""
        T = ids.shape[0]
        x = self.emb[ids]
        cos = torch.ones(1, 1, self.D // 2, dtype=x.dtype, device=x.device)
        sin = torch.zeros_like(cos)
        G = self.H // self.KV
        for l in self.layers:
            a = self.norm(x, l["n1"]) @ l["wqkv"]
            q, k, v = a.split([self.H * self.D, self.KV * self.D, self.KV * self.D], dim=-1)
            q = self.rope(q.view(T, self.H, self.D), cos, sin).transpose(0, 1).unsqueeze(0)
            k = self.rope(k.view(T, self.KV, self.D), cos, sin).transpose(0, 1).unsqueeze(0)
            v = v.view(T, self.KV, self.D).transpose(0, 1).unsqueeze(0)
            self.kc[0, :, :T] = k[0]
            self.vc[0, :, :T] = v[0]
            k = k.repeat_interleave(G, dim=1)
            v = v.repeat_interleave(G, dim=1)
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + o[0].transpose(0, 1).reshape(T, self.H * self.D) @ l["wo"]
            gu = self.norm(x, l["n2"]) @ l["wgu"]
            gt, up = gu.chunk(2, dim=-1)
            x = x + (F.silu(gt) * up) @ l["wd"]
        return torch.argmax(self.norm(x[-1:], self.nf) @ self.head, dim=-1)


def time_fn(fn, iters, warmup=3, use_graph=True):
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(warmup):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    run = fn
    graph = None
    if use_graph:
        try:
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                fn()
            run = graph.replay
            run()
        except Exception as e:  # noqa: BLE001
            print("graph capture failed, eager:", e, file=sys.stderr)
            graph = None
            run = fn
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        run()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    del graph
    times.sort()
    return times[len(times) // 2], times[0], times[int(len(times) * 0.9)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--budget-s", type=float, default=400)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(dev)
    env = dict(torch=torch.__version__, cuda=torch.version.cuda, gpu=props.name,
               memory_bytes=props.total_memory, sms=props.multi_processor_count)
    print(json.dumps(env), flush=True)
    with open(os.path.join(args.out, "env.json"), "w") as f:
        json.dump(env, f)
    out = open(os.path.join(args.out, "calibration.csv"), "w")
    out.write("kind,model,batch,context,tokens,ms_median,ms_min,ms_p90\n")

    def emit(*row):
        line = ",".join(str(x) for x in row)
        out.write(line + "\n")
        out.flush()
        print(line, flush=True)

    # Peak bf16 matmul and HBM copy.
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device=dev)
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device=dev)
    med, mn, p90 = time_fn(lambda: a @ b, 20, use_graph=False)
    emit("gemm", "8192^3", 0, 0, 0, f"{med:.4f}", f"{mn:.4f}", f"{p90:.4f}")
    del a, b
    src = torch.empty(4 << 30, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    med, mn, p90 = time_fn(lambda: dst.copy_(src), 10, use_graph=False)
    emit("copy", "4GiB", 0, 0, 0, f"{med:.4f}", f"{mn:.4f}", f"{p90:.4f}")
    del src, dst
    torch.cuda.empty_cache()

    plans = [
        ("llama-3.1-8b", 512, 8192 + 16,
         [(bt, c) for c in (128, 512, 2048) for bt in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
          if bt * c <= 600_000] + [(bt, 8192) for bt in (1, 16, 64)],
         (16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)),
        ("llama-3.1-70b-tp4-shard", 256, 8192 + 16,
         [(bt, c) for c in (512, 2048) for bt in (1, 8, 32, 64, 128, 256)],
         (128, 512, 2048, 8192)),
    ]
    for name, max_b, max_ctx, decodes, prefills in plans:
        if time.time() - t0 > args.budget_s:
            break
        m = Llama(name, max_b, max(max_ctx, max(prefills) + 1), dev)
        emit("weights", name, 0, 0, 0, m.weight_bytes, 0, 0)
        for bt, c in decodes:
            if time.time() - t0 > args.budget_s:
                break
            ids = torch.zeros(bt, dtype=torch.long, device=dev)
            iters = 30 if bt * c < 200_000 else 15
            med, mn, p90 = time_fn(lambda: m.decode(ids, c), iters)
            emit("decode", name, bt, c, bt, f"{med:.4f}", f"{mn:.4f}", f"{p90:.4f}")
        for t in prefills:
            if time.time() - t0 > args.budget_s:
                break
            ids = torch.zeros(t, dtype=torch.long, device=dev)
            iters = 15 if t < 8192 else 6
            med, mn, p90 = time_fn(lambda: m.prefill(ids), iters)
            emit("prefill", name, 1, 0, t, f"{med:.4f}", f"{mn:.4f}", f"{p90:.4f}")
        del m
        torch.cuda.empty_cache()
    print("total_s", round(time.time() - t0, 1), flush=True)


if __name__ == "__main__":
    main()
