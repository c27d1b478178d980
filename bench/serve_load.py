#!/usr/bin/python3
"""Load test of `pith serve` on loopback (issue #6's numbers).

  /usr/bin/python3 bench/serve_load.py [--pith build/release/pith] [--zoo build/zoo]
                                       [--seconds 20] [--connections 16] [--workers 2]

1. Makes MobileNetV2 int8 (`pith compress --quantize int8`, calibrated on the zoo input)
   and an fp32 copy, in a temporary models folder.
2. Deadlines: 50 requests with a 1 ms deadline against the fp32 model (~7 ms a run):
   each must end in 504 (DeadlineExceeded); reports the worst time to the answer, and
   that the next request without a deadline succeeds.
3. Cache: one input sent again and again to a model with the cache on: miss vs hit.
4. Load: wrk (Debian) for --seconds with --connections against MobileNetV2 int8 on
   --workers workers, queue 32; halfway through, a new version is uploaded (hot swap).
   Reports throughput, p50/p99 from wrk, status counts (503s are deliberate rejections
   when the queue is full; anything else is a failure) and the server's own monitor.
Exits 1 if any request failed, a deadline was late, or the cache was under 20x faster.
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-npy"
local f = io.open(os.getenv("PITH_BODY"), "rb")
wrk.body = f:read("*all")
f:close()
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do total[code] = (total[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(total) do table.insert(parts, string.format('"%d": %d', code, n)) end
  io.write(string.format('PITH_WRK {"statuses": {%s}, "requests": %d, "seconds": %f, "p50_ms": %f, ' ..
    '"p90_ms": %f, "p99_ms": %f, "max_ms": %f, "socket_errors": %d}\n',
    table.concat(parts, ", "), summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
"""


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def request(port, method, path, body=b"", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pith", default="build/release/pith")
    ap.add_argument("--zoo", default="build/zoo")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=18431)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: scripts/install-deps.sh installs it")
    pith = os.path.abspath(args.pith)
    work = tempfile.mkdtemp(prefix="pith_serve_load_")
    models = os.path.join(work, "models")
    os.makedirs(models)
    onnx = os.path.join(args.zoo, "mobilenet_v2.onnx")
    sample = os.path.join(args.zoo, "mobilenet_v2_input.npy")
    body_file = os.path.join(work, "input.npy")
    shutil.copy(sample, body_file)
    run([pith, "compress", onnx, "--quantize", "int8", "--calibration", sample,
         "-o", os.path.join(models, "mobilenet_v2_int8.pith")], stdout=subprocess.DEVNULL)
    run([pith, "compress", onnx, "-o", os.path.join(models, "mobilenet_v2.pith")], stdout=subprocess.DEVNULL)
    shutil.copy(os.path.join(models, "mobilenet_v2.pith"), os.path.join(models, "mobilenet_v2_cached.pith"))
    for name in ("mobilenet_v2", "mobilenet_v2_int8"):
        with open(os.path.join(models, name + ".json"), "w") as f:
            json.dump({"cache": False, "workers": args.workers, "queue_capacity": 32}, f)
    server = subprocess.Popen([pith, "serve", "--models", models, "--port", str(args.port)],
                              stderr=subprocess.PIPE, text=True)
    failed = []
    try:
        for _ in range(600):
            try:
                if request(args.port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        body = open(body_file, "rb").read()
        npy = {"Content-Type": "application/x-npy"}

        # Deadlines.
        status, data = request(args.port, "POST", "/v1/models/mobilenet_v2:predict", body, npy)
        assert status == 200, data
        full_ms = json.loads(data)["latency_ms"]
        worst, late, engine_worst = 0.0, 0, 0.0
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        for _ in range(50):
            t0 = time.perf_counter()
            conn.request("POST", "/v1/models/mobilenet_v2:predict", body=body,
                         headers={**npy, "X-Deadline-Ms": "1"})
            r = conn.getresponse()
            answer = r.read()
            worst = max(worst, (time.perf_counter() - t0) * 1000)
            late += r.status != 504
            if r.status == 504:  # "deadline exceeded after X ms": the engine's own count from infer()
                engine_worst = max(engine_worst, float(json.loads(answer)["error"].split("after ")[1].split()[0]))
        conn.request("POST", "/v1/models/mobilenet_v2:predict", body=body, headers=npy)
        after = conn.getresponse()
        after.read()
        conn.close()
        status_json = json.loads(request(args.port, "GET", "/v1/models/mobilenet_v2")[1])
        print(f"deadline 1 ms on MobileNetV2 fp32 ({full_ms:.2f} ms a run): {50 - late}/50 answered 504, "
              f"worst in the engine {engine_worst:.3f} ms, worst client-side time to the answer {worst:.2f} ms "
              f"(sending the 600 KB body and decoding it included); "
              f"next request without a deadline: HTTP {after.status}; server timeouts counted: "
              f"{status_json['monitor']['timeouts']}")
        if late or after.status != 200 or engine_worst > 2.0:
            failed.append("deadline")

        # Cache.
        path = "/v1/models/mobilenet_v2_cached:predict"
        _, miss = request(args.port, "POST", path, body, npy)
        hits = [json.loads(request(args.port, "POST", path, body, npy)[1]) for _ in range(20)]
        miss_ms = json.loads(miss)["latency_ms"]
        hit_ms = float(np.median([h["latency_ms"] for h in hits]))
        print(f"cache: miss {miss_ms:.3f} ms, hit {hit_ms:.4f} ms (median of 20, engine time), "
              f"{miss_ms / hit_ms:.0f}x; all hits cached: {all(h['cached'] for h in hits)}")
        if miss_ms < 20 * hit_ms or not all(h["cached"] for h in hits):
            failed.append("cache")

        # Load with a hot swap halfway.
        swap = {}

        def hot_swap():
            time.sleep(args.seconds / 2)
            t0 = time.perf_counter()
            artifact = open(os.path.join(models, "mobilenet_v2_int8.pith"), "rb").read()
            swap["status"], swap["body"] = request(args.port, "POST", "/v1/models/mobilenet_v2_int8/versions",
                                                   artifact, {"Content-Type": "application/octet-stream"})
            swap["ms"] = (time.perf_counter() - t0) * 1000

        swapper = threading.Thread(target=hot_swap)
        swapper.start()
        script = os.path.join(work, "post.lua")
        with open(script, "w") as f:
            f.write(WRK_SCRIPT)
        wrk = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds:g}s", "--timeout", "10s",
                              "-s", script, f"http://127.0.0.1:{args.port}/v1/models/mobilenet_v2_int8:predict"],
                             env={**os.environ, "PITH_BODY": body_file}, capture_output=True, text=True)
        swapper.join()
        print(wrk.stdout)
        line = [l for l in wrk.stdout.splitlines() if l.startswith("PITH_WRK ")]
        if not line:
            sys.exit("wrk printed no summary:\n" + wrk.stderr)
        summary = json.loads(line[0][len("PITH_WRK "):])
        statuses = summary["statuses"]
        ok = statuses.get("200", 0)
        rejected = statuses.get("503", 0)
        other = sum(n for code, n in statuses.items() if code not in ("200", "503"))
        model = json.loads(request(args.port, "GET", "/v1/models/mobilenet_v2_int8")[1])
        mon = model["monitor"]
        print(f"load: {args.seconds:g} s, {args.connections} connections, {args.workers} workers, MobileNetV2 int8: "
              f"{ok} answered ({ok / summary['seconds']:.1f}/s), {rejected} rejected with 503 (queue full), "
              f"{other} other non-200, {summary['socket_errors']} socket errors; wrk latency p50 "
              f"{summary['p50_ms']:.1f} ms, p90 {summary['p90_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, "
              f"max {summary['max_ms']:.1f} ms")
        print(f"server monitor: ok {mon['ok']}, rejected {mon['rejected']}, errors {mon['errors']}, timeouts "
              f"{mon['timeouts']}; engine p50 {mon['latency_ms']['p50']:.2f} ms, p99 {mon['latency_ms']['p99']:.2f} ms"
              f" (last {mon['latency_ms']['window']} requests); trend {mon['trend']}")
        print(f"hot swap during the load: HTTP {swap.get('status')} in {swap.get('ms', 0):.0f} ms -> live "
              f"{model['deployment_id']}; versions {[(v['version'], v['status']) for v in model['versions']]}")
        if other or summary["socket_errors"] or swap.get("status") != 201 or model["version"] != 2:
            failed.append("load")
        status, metrics = request(args.port, "GET", "/metrics")
        rss = [l for l in metrics.decode().splitlines() if l.startswith("pith_process_resident_memory_bytes")]
        print(f"server RSS after the load: {int(rss[0].split()[1]) / 2**20:.1f} MiB (all four models loaded)")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        sys.exit("FAILED: " + ", ".join(failed))


if __name__ == "__main__":
    main()
