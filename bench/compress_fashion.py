#!/usr/bin/python3
"""Static int8 on the three Fashion-MNIST models, measured end to end.

For LeNet-5, LeNet-300-100 and the compact CNN (trained by tools/train_compress_models.py,
which this script runs first; about 12 minutes the first time, cached after) and for
8-bit and 7-bit weights: `pith compress --quantize int8` with the 512-image calibration
set, then on the 10,000 test images the top-1 accuracy before and after, the size ratio
against the fp32 ONNX file of the .pith artifact (plain and with --entropy) and of the QDQ ONNX, ONNX Runtime's accuracy on pith's QDQ export and its top-1 agreement with pith's
int8 outputs, and batch-1 latency (1 thread) of pith fp32, pith int8 and ORT int8, ORT
measured in the same run. Prints one table.

usage: /usr/bin/python3 bench/compress_fashion.py [--data build/fashion] [--pith build/release/pith]
                                 [--methods minmax] [--iterations 300]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_ort import ROOT, ensure_ort, last_json, run_ort, run_pith  # noqa: E402

MODELS = ["lenet5", "lenet300", "compact_cnn"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "fashion"))
    ap.add_argument("--pith", default=os.path.join(ROOT, "build", "release", "pith"))
    ap.add_argument("--methods", default="minmax", help="calibration methods, comma-separated")
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "ort"))
    args = ap.parse_args()
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "train_compress_models.py"), "--out", args.data],
                   check=True)
    module = ensure_ort(args.cache)
    d = args.data
    images, labels = os.path.join(d, "test_images.npy"), os.path.join(d, "test_labels.npy")
    y = np.load(labels)
    tmp = tempfile.mkdtemp(prefix="pith_compress_bench_")
    one = os.path.join(tmp, "one.npy")
    np.save(one, np.load(images)[:1])
    rows = []
    for name in MODELS:
        fp32 = os.path.join(d, name + ".onnx")
        t_fp32, _ = run_pith(args.pith, fp32, one, 1, 20, args.iterations)
        for method in args.methods.split(","):
            for bits in (8, 7):
                q = os.path.join(tmp, f"{name}_{method}_w{bits}.onnx")
                out = subprocess.run([args.pith, "compress", fp32, "-o", q, "--quantize", "int8", "--calibration",
                                      os.path.join(d, "calibration.npy"), "--calibration-method", method,
                                      "--weight-bits", str(bits), "--data", images, "--labels", labels],
                                     check=True, capture_output=True, text=True).stdout
                rep = last_json(out)
                pith_sizes = []
                for extra in ([], ["--entropy"]):
                    art = os.path.join(tmp, f"{name}_{method}_w{bits}.pith")
                    o2 = subprocess.run([args.pith, "compress", fp32, "-o", art, "--quantize", "int8",
                                         "--calibration", os.path.join(d, "calibration.npy"),
                                         "--calibration-method", method, "--weight-bits", str(bits)] + extra,
                                        check=True, capture_output=True, text=True).stdout
                    pith_sizes.append(last_json(o2)["ratio"])
                pith_out = os.path.join(tmp, "pith_out")
                subprocess.run([args.pith, "run", q, "--input", images, "--output-dir", pith_out], check=True,
                               capture_output=True)
                ort_npy = os.path.join(tmp, "ort.npy")
                subprocess.run(["node", os.path.join(ROOT, "bench", "ort_predict.js"), q, images, ort_npy, "100",
                                "1"], check=True, capture_output=True, env=dict(os.environ, PITH_ORT_MODULE=module))
                p, o = np.load(os.path.join(pith_out, "0.npy")), np.load(ort_npy)
                t_int8, _ = run_pith(args.pith, os.path.join(tmp, f"{name}_{method}_w{bits}.pith"), one, 1, 20,
                                     args.iterations)
                t_ort, _ = run_ort(module, q, one, 1, 20, args.iterations)
                rows.append([name, method, bits, rep["accuracy_before"], rep["accuracy_after"], pith_sizes[0],
                             pith_sizes[1], rep["ratio"],
                             rep["sqnr_db"], float((o.argmax(1) == y).mean()),
                             float((o.argmax(1) == p.argmax(1)).mean()), t_fp32, t_int8, t_ort])
    head = ("model", "calib", "wbits", "fp32 acc", "int8 acc", "drop pt", ".pith x", "+zstd x", "QDQ x", "SQNR dB",
            "ORT acc",
            "ORT agree", "fp32 ms", "int8 ms", "ORT ms", "int8/fp32", "int8/ORT")
    print("  ".join(f"{h:>10}" for h in head))
    for r in rows:
        name, method, bits, a0, a1, pr, pz, ratio, sqnr, oa, agree, tf, ti, to = r
        vals = [name, method, str(bits), f"{100 * a0:.2f}", f"{100 * a1:.2f}", f"{100 * (a0 - a1):.2f}",
                f"{pr:.2f}", f"{pz:.2f}", f"{ratio:.2f}", f"{sqnr:.1f}", f"{100 * oa:.2f}", f"{100 * agree:.2f}", f"{tf:.3f}", f"{ti:.3f}",
                f"{to:.3f}", f"{ti / tf:.2f}", f"{ti / to:.2f}"]
        print("  ".join(f"{v:>10}" for v in vals))
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
