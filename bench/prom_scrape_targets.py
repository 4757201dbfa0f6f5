#!/usr/bin/env python3
"""Loopback scrape targets for bench/prom_scrape.sh: N HTTP/1.1 keep-alive servers on free
127.0.0.1 ports, each serving a vLLM V1-shaped /metrics page (two engines, V1 bucket
boundaries, `engine` + `model_name` labels, ~55 KB). Counter and histogram values grow on every
request so that the scraper appends fresh samples, as against a live server (all targets'
n-th pages are equal: built once per round, so the Python side stays cheap).

Usage: prom_scrape_targets.py N PORTS_FILE   (writes one port per line, then serves until killed)
"""
import asyncio
import sys

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
ENGINES = 2
TTFT = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
        10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
TPOT = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
        10.0, 20.0, 40.0, 80.0]
LAT = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
       120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]
TOKENS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]


PAGES = {}


def cached_page(n):
    # Every target's n-th page is the same (target labels tell them apart), so a page is built
    # once per scrape round rather than once per request.
    if n not in PAGES:
        if len(PAGES) > 8:
            PAGES.pop(min(PAGES))
        PAGES[n] = page(0, n)
    return PAGES[n]


def page(pod, n):
    out = []
    lab = lambda e: 'engine="%d",model_name="%s"' % (e, MODEL)

    def family(name, kind, help_text):
        out.append("# HELP %s %s\n# TYPE %s %s\n" % (name, help_text, name, kind))

    for name in ["vllm:num_requests_running", "vllm:num_requests_waiting",
                 "vllm:gpu_cache_usage_perc", "vllm:num_preemptions"]:
        family(name, "gauge", "Gauge " + name)
        for e in range(ENGINES):
            out.append("%s{%s} %s\n" % (name, lab(e), float((n + pod + e) % 17)))
    for name in ["vllm:prompt_tokens_total", "vllm:generation_tokens_total",
                 "vllm:request_success_total", "vllm:prefix_cache_queries_total",
                 "vllm:prefix_cache_hits_total"]:
        family(name, "counter", "Counter " + name)
        for e in range(ENGINES):
            out.append("%s{%s} %s\n" % (name, lab(e), float(1000 * n + 7 * e + pod)))
    hist = [("vllm:time_to_first_token_seconds", TTFT),
            ("vllm:time_per_output_token_seconds", TPOT),
            ("vllm:e2e_request_latency_seconds", LAT),
            ("vllm:request_queue_time_seconds", LAT),
            ("vllm:request_inference_time_seconds", LAT),
            ("vllm:request_prefill_time_seconds", LAT),
            ("vllm:request_decode_time_seconds", LAT),
            ("vllm:request_prompt_tokens", TOKENS),
            ("vllm:request_generation_tokens", TOKENS),
            ("vllm:iteration_tokens_total", TOKENS)]
    for name, buckets in hist:
        family(name, "histogram", "Histogram " + name)
        for e in range(ENGINES):
            total = 0
            for i, b in enumerate(buckets + ["+Inf"]):
                total += (i % 5) * n + e
                out.append('%s_bucket{%s,le="%s"} %s\n' % (name, lab(e), b, float(total)))
            out.append("%s_count{%s} %s\n" % (name, lab(e), float(total)))
            out.append("%s_sum{%s} %s\n" % (name, lab(e), total * 0.731))
    family("python_gc_objects_collected_total", "counter", "Objects collected during gc")
    for g in range(3):
        out.append('python_gc_objects_collected_total{generation="%d"} %s\n' % (g, 100.0 * n))
    family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
    out.append("process_resident_memory_bytes 1.2e+09\n")
    return "".join(out).encode()


class Target(asyncio.Protocol):
    def __init__(self, pod):
        self.pod = pod
        self.buf = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            _, self.buf = self.buf.split(b"\r\n\r\n", 1)
            COUNTS[self.pod] += 1
            body = cached_page(COUNTS[self.pod])
            head = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                    "Content-Length: %d\r\n\r\n" % len(body)).encode()
            self.transport.write(head + body)


COUNTS = []


async def main():
    n = int(sys.argv[1])
    COUNTS.extend([0] * n)
    loop = asyncio.get_running_loop()
    ports = []
    for pod in range(n):
        server = await loop.create_server(lambda pod=pod: Target(pod), "127.0.0.1", 0,
                                          backlog=64)
        ports.append(server.sockets[0].getsockname()[1])
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write("".join("%d\n" % p for p in ports))
    import os
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    print("page size %d bytes" % len(page(0, 1)), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
