#!/usr/bin/env python3
"""int8 on the zoo convnets: pith int8 against pith fp32 and against ONNX Runtime running
pith's own QDQ export of the same quantized model, in the same run, on the same inputs.

For each model: `pith compress --quantize int8` on a calibration set writes the .pith that
pith runs and the QDQ .onnx that ONNX Runtime runs (same weights, same scales); then, for
several rounds, alternately, `pith bench` of the fp32 model and of the int8 artifact, and
ORT (bench/ort_bench.js) on the QDQ export, each engine's best round median kept (batch 1).
Agreement: both int8 engines' top-1 on an evaluation set (ORT through bench/ort_predict.js,
pith through `pith run`), and pith int8's top-1 against pith fp32.
Prints per model the three latencies, int8/fp32 and pith/ORT ratios, agreement; then the
geometric means of the two ratios.

The zoo has random weights (no pretrained ones are reachable here) and the inputs are
Gaussian noise, so agreement is measured on logits that are closer together than a trained
model's: a harder test of the two engines computing the same int8 arithmetic.

usage: bench/int8_zoo.py [--zoo build/zoo] [--pith build/release/pith] [--models a,b]
                         [--calibration-samples 16] [--eval-samples 50] [--weight-bits 7]
                         [--threads 1] [--rounds 3] [--iterations 30]
--weight-bits 7 (the default) keeps the weights in [-64, 64], which ONNX Runtime needs on
AVX2 CPUs without VNNI (its u8 x s8 kernels add pairs in saturating 16 bits).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_ort import ROOT, ensure_ort, run_ort, run_pith  # noqa: E402

CONVNETS = ["mobilenet_v2", "mobilenet_v3_small", "resnet18", "squeezenet1_1", "shufflenet_v2_x1_0",
            "efficientnet_b0", "mnasnet0_5", "regnet_x_400mf", "googlenet"]


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def pith_outputs(pith, model, data, work):
    """Output 0 of `pith run` on each sample (the zoo models take batch 1)."""
    rows = []
    for i in range(data.shape[0]):
        x = os.path.join(work, "sample.npy")
        np.save(x, data[i:i + 1])
        out = os.path.join(work, "out")
        subprocess.run([pith, "run", model, "--input", x, "--output-dir", out], check=True,
                       capture_output=True)
        rows.append(np.load(os.path.join(out, "0.npy")).reshape(-1))
    return np.stack(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zoo", default=os.path.join(ROOT, "build", "zoo"))
    ap.add_argument("--pith", default=os.path.join(ROOT, "build", "release", "pith"))
    ap.add_argument("--models", default=",".join(CONVNETS))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "int8_zoo"))
    ap.add_argument("--calibration-samples", type=int, default=16)
    ap.add_argument("--eval-samples", type=int, default=50)
    ap.add_argument("--weight-bits", type=int, default=7, choices=[7, 8])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "ort"))
    args = ap.parse_args()

    module = ensure_ort(args.cache)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(0)
    print(f"== int8 (weights {args.weight_bits}-bit, {args.calibration_samples} calibration samples), "
          f"{args.threads} thread(s), best of {args.rounds} rounds; agreement on {args.eval_samples} samples")
    print(f"{'model':20s} {'fp32 ms':>8s} {'int8 ms':>8s} {'ORT ms':>8s} {'int8/fp32':>9s} {'pith/ORT':>8s} "
          f"{'ORT agree':>9s} {'fp32 agree':>10s}")
    speed, vs_ort, rows = [], [], []
    for name in [m for m in args.models.split(",") if m]:
        fp32 = os.path.join(args.zoo, name + ".onnx")
        inp = os.path.join(args.zoo, name + "_input.npy")
        if not os.path.exists(fp32):
            print(f"{name:20s} missing (run tools/export_zoo.py --out {args.zoo})")
            continue
        shape = np.load(inp).shape
        cal = os.path.join(args.out, name + "_calibration.npy")
        evaluation = rng.standard_normal((args.eval_samples,) + shape[1:]).astype(np.float32)
        np.save(cal, rng.standard_normal((args.calibration_samples,) + shape[1:]).astype(np.float32))
        art = os.path.join(args.out, name + "_int8.pith")
        qdq = os.path.join(args.out, name + "_int8.onnx")
        for out in (art, qdq):
            subprocess.run([args.pith, "compress", fp32, "-o", out, "--quantize", "int8", "--calibration", cal,
                            "--weight-bits", str(args.weight_bits)], check=True, capture_output=True)
        f_best = q_best = o_best = float("inf")
        for _ in range(args.rounds):  # alternate so that all three see the same machine state
            f_best = min(f_best, run_pith(args.pith, fp32, inp, args.threads, args.warmup, args.iterations)[0])
            q_best = min(q_best, run_pith(args.pith, art, inp, args.threads, args.warmup, args.iterations)[0])
            o_best = min(o_best, run_ort(module, qdq, inp, args.threads, args.warmup, args.iterations)[0])
        with tempfile.TemporaryDirectory() as work:
            data = os.path.join(work, "eval.npy")
            np.save(data, evaluation)
            ort_out = os.path.join(work, "ort.npy")
            subprocess.run(["node", os.path.join(ROOT, "bench", "ort_predict.js"), qdq, data, ort_out, "1", "1"],
                           check=True, capture_output=True, env=dict(os.environ, PITH_ORT_MODULE=module))
            ort_top1 = np.load(ort_out).reshape(args.eval_samples, -1).argmax(1)
            int8_top1 = pith_outputs(args.pith, art, evaluation, work).argmax(1)
            fp32_top1 = pith_outputs(args.pith, fp32, evaluation, work).argmax(1)
        ort_agree = float((ort_top1 == int8_top1).mean())
        fp32_agree = float((fp32_top1 == int8_top1).mean())
        speed.append(q_best / f_best)
        vs_ort.append(q_best / o_best)
        rows.append({"model": name, "fp32_ms": f_best, "int8_ms": q_best, "ort_int8_ms": o_best,
                     "ort_agreement": ort_agree, "fp32_agreement": fp32_agree})
        print(f"{name:20s} {f_best:8.2f} {q_best:8.2f} {o_best:8.2f} {q_best / f_best:9.2f} {q_best / o_best:8.2f} "
              f"{100 * ort_agree:8.1f}% {100 * fp32_agree:9.1f}%", flush=True)
    print(f"geometric mean int8/fp32: {geomean(speed):.2f}   pith int8 / ORT int8: {geomean(vs_ort):.2f}")
    print(json.dumps({"geomean_int8_over_fp32": geomean(speed), "geomean_pith_over_ort_int8": geomean(vs_ort),
                      "models": rows}))


if __name__ == "__main__":
    main()
