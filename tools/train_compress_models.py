#!/usr/bin/python3
"""Train the three Fashion-MNIST models the compression work is measured on.

Makes, in --out (default build/fashion):
  lenet5.onnx          LeNet-5, the Deep Compression variant (Caffe's): conv 20 5x5,
                       max-pool 2, conv 50 5x5, max-pool 2, fc 500 + ReLU, fc 10 (431k weights)
  lenet300.onnx        LeNet-300-100: fc 784-300-100-10 with ReLU (266k weights)
  compact_cnn.onnx     a depthwise-separable CNN: conv 3x3 16, then three
                       depthwise 3x3 + pointwise blocks (32, 64, 64 channels), global
                       average pool, fc 10; BatchNorm folded by the exporter (~9k weights)
  test_images.npy      the 10,000 test images, float32 [10000,1,28,28] in [0,1]
  test_labels.npy      their labels, int64 [10000]
  calibration.npy      512 training images (a fixed seeded sample), float32 [512,1,28,28]
  models.json          per model: torch test accuracy, parameter count, file size, epochs
Every ONNX: opset 13, input "input" float32 [N,1,28,28], output "logits" [N,10].

With --data-only, only the three .npy data files (a few seconds; what the tests need).
Deterministic for a given seed with --threads 1 (torch 1.13, Debian python3-torch);
models already present (and listed in models.json) are kept unless --force.
Run with Debian's python: /usr/bin/python3 tools/train_compress_models.py
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402
from train_default_model import evaluate  # noqa: E402  (top-1 on a tensor dataset)

OPSET = 13
CALIBRATION_SAMPLES = 512


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(50 * 4 * 4, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x), 2)   # 20x12x12 (Caffe's LeNet has no ReLU here)
        x = F.max_pool2d(self.conv2(x), 2)   # 50x4x4
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


class LeNet300(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def _conv_bn(cin, cout, k, stride, groups):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class CompactCNN(nn.Module):
    def __init__(self):
        super().__init__()
        layers = [_conv_bn(1, 16, 3, 1, 1)]                       # 16x28x28
        for cin, cout, stride in ((16, 32, 2), (32, 64, 2), (64, 64, 1)):
            layers += [_conv_bn(cin, cin, 3, stride, cin),       # depthwise
                       _conv_bn(cin, cout, 1, 1, 1)]             # pointwise
        self.features = nn.Sequential(*layers)                    # 64x7x7
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.features(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


MODELS = {  # name: (class, epochs, max lr)
    "lenet5": (LeNet5, 4, 2e-3),
    "lenet300": (LeNet300, 6, 2e-3),
    "compact_cnn": (CompactCNN, 5, 5e-3),
}


def train(name, xtr, ytr, xte, yte, args):
    cls, epochs, lr = MODELS[name]
    epochs = args.epochs or epochs
    torch.manual_seed(args.seed)
    model = cls()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(xtr) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        total = 0.0
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"{name} epoch {epoch + 1}/{epochs}: train loss {total / len(xtr):.4f} "
              f"test acc {evaluate(model, xte, yte):.4f} ({time.time() - t0:.0f}s)", flush=True)
    model.eval()
    return model, epochs, time.time() - t0


def export(model, name, path, acc, sample):
    import onnx
    torch.onnx.export(model, sample, path, opset_version=OPSET, do_constant_folding=True,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    m = onnx.load(path)
    m.doc_string = f"pith Fashion-MNIST {name}, torch test accuracy {acc:.4f}"
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/fashion")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    ap.add_argument("--epochs", type=int, default=0, help="override every model's epochs")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--train-samples", type=int, default=0,
                    help="train on this many training images (default 0: all 60,000)")
    ap.add_argument("--force", action="store_true", help="retrain models already present")
    ap.add_argument("--data-only", action="store_true",
                    help="write only the test and calibration sets (no training; a few seconds)")
    ap.add_argument("--data", default=None, help="Fashion-MNIST directory")
    args = ap.parse_args()
    names = [] if args.data_only else [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            raise SystemExit(f"unknown model {n!r}; known: {', '.join(MODELS)}")

    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    xtr_np, ytr_np = fashion_mnist.load("train", args.data)
    xte_np, yte_np = fashion_mnist.load("test", args.data)
    np.save(os.path.join(args.out, "test_images.npy"), xte_np)
    np.save(os.path.join(args.out, "test_labels.npy"), yte_np)
    rng = np.random.default_rng(args.seed)
    calib = xtr_np[np.sort(rng.choice(len(xtr_np), CALIBRATION_SAMPLES, replace=False))]
    np.save(os.path.join(args.out, "calibration.npy"), calib)

    if args.data_only:
        print(f"wrote {args.out}/test_images.npy, test_labels.npy, calibration.npy")
        return
    manifest_path = os.path.join(args.out, "models.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    if args.train_samples:  # a fixed subset, for runs that need trained weights, not accuracy
        keep = np.sort(rng.choice(len(xtr_np), min(args.train_samples, len(xtr_np)), replace=False))
        xtr_np, ytr_np = xtr_np[keep], ytr_np[keep]
    xtr, ytr = torch.from_numpy(xtr_np), torch.from_numpy(ytr_np)
    xte, yte = torch.from_numpy(xte_np), torch.from_numpy(yte_np)
    for name in names:
        path = os.path.join(args.out, name + ".onnx")
        if not args.force and name in manifest and os.path.exists(path):
            print(f"{name}: present ({manifest[name]['accuracy']:.4f}), kept")
            continue
        model, epochs, seconds = train(name, xtr, ytr, xte, yte, args)
        acc = evaluate(model, xte, yte)
        export(model, name, path, acc, xte[:1].clone())
        manifest[name] = {
            "accuracy": acc,
            "parameters": sum(p.numel() for p in model.parameters()),
            "onnx_bytes": os.path.getsize(path),
            "epochs": epochs,
            "seed": args.seed,
            "train_seconds": round(seconds, 1),
        }
        print(f"{name}: test accuracy {acc:.4f}, wrote {path} ({os.path.getsize(path)} bytes)",
              flush=True)
        with open(manifest_path, "w") as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
