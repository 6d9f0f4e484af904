#!/usr/bin/env python3
"""Bounded load run of `gui-agent serve` on loopback: N requests of POST /v1/ground from C
concurrent clients (Python standard library only, one keep-alive-free connection per request).

Starts the server itself (a kernel-chosen port), warms it up, reads its resident memory
(/proc/PID/status VmRSS) after the warm-up and after the run, then stops it with SIGTERM.
Prints one JSON object: counts by status, p50/p90/p99/max latency (ms), throughput (req/s),
memory before/after and its growth. Exits 1 when a request fails with anything but the
documented 503 (queue full), or when memory after the run exceeds memory after warm-up by
more than --max-growth (default 10%).

Usage: scripts/bench/serve_load.py --binary .build/release/gui-agent \
         --model Tests/GroundingTests/Fixtures/tiny-bluelm [--requests 2000 --concurrency 8]
"""
import argparse
import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def post(port: int, body: bytes) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/v1/ground", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        status = resp.status
    except OSError:
        status = -1
    finally:
        conn.close()
    return status, (time.perf_counter() - t0) * 1000


def run(port: int, body: bytes, total: int, concurrency: int):
    lock = threading.Lock()
    next_index = [0]
    results = []

    def worker():
        while True:
            with lock:
                if next_index[0] >= total:
                    return
                next_index[0] += 1
            status, ms = post(port, body)
            with lock:
                results.append((status, ms))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - t0


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return round(sorted_values[k], 2)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/gui-agent")
    ap.add_argument("--model", default="Tests/GroundingTests/Fixtures/tiny-bluelm")
    ap.add_argument("--image", default="Tests/GroundingTests/Fixtures/pipeline/land_40x30.png")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--queue", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="compute threads of the server")
    ap.add_argument("--max-growth", type=float, default=0.10)
    args = ap.parse_args()

    with open(args.image, "rb") as f:
        body = json.dumps({"image": base64.b64encode(f.read()).decode(), "instruction": "the OK button"}).encode()
    server = subprocess.Popen([args.binary, "serve", "--model", args.model, "--port", "0", "--json", "--no-episodes",
                               "--queue", str(args.queue), "--threads", str(args.threads)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = json.loads(server.stdout.readline())["port"]
        _, _ = run(port, body, args.warmup, args.concurrency)
        rss_warm = rss_kib(server.pid)
        results, seconds = run(port, body, args.requests, args.concurrency)
        rss_after = rss_kib(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)

    counts = {}
    for status, _ in results:
        counts[str(status)] = counts.get(str(status), 0) + 1
    ok = sorted(ms for status, ms in results if status == 200)
    growth = (rss_after - rss_warm) / rss_warm
    report = {
        "requests": args.requests, "concurrency": args.concurrency, "queue": args.queue, "threads": args.threads,
        "statuses": counts, "seconds": round(seconds, 3), "throughput_rps": round(len(results) / seconds, 1),
        "ok_throughput_rps": round(len(ok) / seconds, 1),
        "latency_ms": {"p50": percentile(ok, 50), "p90": percentile(ok, 90), "p99": percentile(ok, 99),
                       "max": round(ok[-1], 2) if ok else None},
        "rss_kib": {"after_warmup": rss_warm, "after_run": rss_after, "growth": round(growth, 4)},
        "server_exit": exit_code, "cpus": os.cpu_count(),
    }
    print(json.dumps(report, sort_keys=True))
    failures = sum(n for s, n in counts.items() if s not in ("200", "503"))
    if failures or growth > args.max_growth or exit_code != 0:
        print(f"serve_load: {failures} failures, memory growth {growth:.1%}, server exit {exit_code}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
