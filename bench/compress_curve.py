#!/usr/bin/python3
"""Size/accuracy curves of pruning + clustering + entropy coding on the Fashion-MNIST models.

For LeNet-5 (and, with --models, any of lenet5, lenet300, compact_cnn trained by
tools/train_compress_models.py into --data) runs `pith compress -o X.pith --entropy` over a
grid: data-aware pruning (Wanda selection + least-squares refit, ERK allocation across
layers, calibrated on the 512-image set) at several sparsities, times weight clustering
into k values; plus int8 alone. Prints, per point, the size ratio against the fp32 ONNX file,
bits per weight, and top-1 accuracy on the 10,000 test images and its drop; then the
smallest point within 1.0 point of the float model.

usage: /usr/bin/python3 bench/compress_curve.py [--models lenet5] [--data build/fashion]
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_ort import ROOT, last_json  # noqa: E402

SPARSITIES = [0.5, 0.8, 0.85, 0.88, 0.89, 0.9, 0.92, 0.95]
CLUSTERS = [8, 16, 32]


def compress(pith, model, out, d, extra):
    cmd = [pith, "compress", model, "-o", out, "--entropy", "--data", os.path.join(d, "test_images.npy"),
           "--labels", os.path.join(d, "test_labels.npy")] + extra
    return last_json(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "fashion"))
    ap.add_argument("--pith", default=os.path.join(ROOT, "build", "release", "pith"))
    ap.add_argument("--models", default="lenet5")
    args = ap.parse_args()
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "train_compress_models.py"), "--out", args.data],
                   check=True)
    d = args.data
    calib = ["--calibration", os.path.join(d, "calibration.npy")]
    tmp = tempfile.mkdtemp(prefix="pith_curve_")
    for name in args.models.split(","):
        model = os.path.join(d, name + ".onnx")
        points = [("int8", calib + ["--quantize", "int8"])]
        for k in CLUSTERS:
            points.append((f"cluster {k}", ["--cluster", str(k)]))
        for s in SPARSITIES:
            for k in CLUSTERS:
                points.append((f"prune {s} + cluster {k}",
                               calib + ["--prune", str(s), "--prune-allocation", "erk", "--cluster", str(k)]))
        print(f"\n{name} ({os.path.getsize(model)} bytes fp32 ONNX)")
        print(f"{'configuration':>28} {'bytes':>9} {'ratio':>7} {'bits/w':>7} {'top-1':>7} {'drop':>6}")
        best = None
        for label, extra in points:
            r = compress(args.pith, model, os.path.join(tmp, "out.pith"), d, extra)
            drop = 100 * (r["accuracy_before"] - r["accuracy_after"])
            print(f"{label:>28} {r['size_after']:>9} {r['ratio']:>7.2f} {r['bits_per_weight']:>7.2f} "
                  f"{100 * r['accuracy_after']:>7.2f} {drop:>6.2f}", flush=True)
            if drop <= 1.0 and (best is None or r["ratio"] > best[1]):
                best = (label, r["ratio"], drop)
        if best:
            print(f"best within 1.0 point: {best[0]}: {best[1]:.2f}x smaller, drop {best[2]:.2f} points")


if __name__ == "__main__":
    main()
