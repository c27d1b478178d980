#!/usr/bin/env python3
"""Compares pith with ONNX Runtime on the model zoo, in the same run, on the same inputs.

For each model and thread count, runs `pith bench --json` and ONNX Runtime
(onnxruntime-node, bench/ort_bench.js) alternately for several rounds and keeps each
engine's best round median. Prints per model: both medians, the ratio pith/ORT, both
peak RSS and their ratio; then the geometric mean of the latency ratios.

usage: bench/compare_ort.py [--zoo build/zoo] [--pith build/release/pith]
                            [--threads 1,2] [--rounds 3] [--iterations 30] [--models a,b]
ONNX Runtime is installed on first use with
`npm install --ignore-scripts onnxruntime-node@1.30.0` into .cache/ort.
"""
import argparse
import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORT_VERSION = "1.30.0"
ZOO = ["mobilenet_v2", "mobilenet_v3_small", "resnet18", "squeezenet1_1", "shufflenet_v2_x1_0",
       "efficientnet_b0", "mnasnet0_5", "regnet_x_400mf", "googlenet", "vit_tiny"]


def ensure_ort(cache):
    module = os.path.join(cache, "node_modules", "onnxruntime-node")
    if not os.path.isdir(module):
        os.makedirs(cache, exist_ok=True)
        print(f"installing onnxruntime-node@{ORT_VERSION} into {cache}", file=sys.stderr)
        subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund",
                        f"onnxruntime-node@{ORT_VERSION}"], cwd=cache, check=True,
                       stdout=subprocess.DEVNULL)
    return module


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON line in output:\n" + text)


def run_pith(pith, model, inp, threads, warmup, iterations):
    out = subprocess.run([pith, "bench", model, "--input", inp, "--threads", str(threads),
                          "--warmup", str(warmup), "--iterations", str(iterations), "--json"],
                         check=True, capture_output=True, text=True).stdout
    j = last_json(out)
    return j["median_ms"], j["peak_memory_bytes"]


def run_ort(module, model, inp, threads, warmup, iterations):
    env = dict(os.environ, PITH_ORT_MODULE=module)
    out = subprocess.run(["node", os.path.join(ROOT, "bench", "ort_bench.js"), model, inp,
                          str(threads), str(warmup), str(iterations)],
                         check=True, capture_output=True, text=True, env=env).stdout
    j = last_json(out)
    return j["median_ms"], j["peak_rss_bytes"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zoo", default=os.path.join(ROOT, "build", "zoo"))
    ap.add_argument("--pith", default=os.path.join(ROOT, "build", "release", "pith"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--models", default=",".join(ZOO))
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "ort"))
    args = ap.parse_args()

    module = ensure_ort(args.cache)
    models = [m for m in args.models.split(",") if m]
    summary = {}
    for threads in [int(t) for t in args.threads.split(",")]:
        print(f"\n== {threads} thread(s): median latency (best of {args.rounds} rounds) and peak RSS")
        print(f"{'model':22s} {'pith ms':>9s} {'ORT ms':>9s} {'ratio':>6s}   {'pith MB':>8s} {'ORT MB':>8s} {'ratio':>6s}")
        ratios = []
        for name in models:
            model = os.path.join(args.zoo, name + ".onnx")
            inp = os.path.join(args.zoo, name + "_input.npy")
            if not os.path.exists(model):
                print(f"{name:22s} missing (run tools/export_zoo.py --out {args.zoo})")
                continue
            p_best = o_best = float("inf")
            p_rss = o_rss = 0
            for _ in range(args.rounds):  # alternate so both see the same machine state
                p_ms, p_mem = run_pith(args.pith, model, inp, threads, args.warmup, args.iterations)
                o_ms, o_mem = run_ort(module, model, inp, threads, args.warmup, args.iterations)
                p_best, o_best = min(p_best, p_ms), min(o_best, o_ms)
                p_rss, o_rss = max(p_rss, p_mem), max(o_rss, o_mem)
            ratio = p_best / o_best
            ratios.append(ratio)
            print(f"{name:22s} {p_best:9.2f} {o_best:9.2f} {ratio:6.2f}   {p_rss / 2**20:8.1f} "
                  f"{o_rss / 2**20:8.1f} {p_rss / o_rss:6.2f}", flush=True)
        if ratios:
            geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
            summary[threads] = geo
            print(f"geometric mean latency ratio pith/ORT ({threads} thread(s)): {geo:.2f}")
    print("\n" + json.dumps({"geomean_ratio_by_threads": summary}))


if __name__ == "__main__":
    main()
