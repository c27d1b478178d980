#!/usr/bin/python3
"""Train pith's bundled default model: a small CNN on Fashion-MNIST.

Makes (for -o DIR/NAME.onnx, default models/fashion_cnn.onnx in the repo root):
  NAME.onnx           ONNX opset 13, input "input" float32 [N,1,28,28] (pixels
                      in [0,1], no other normalisation), output "logits" [N,10];
                      BatchNorm is folded into the convolutions by the exporter
  NAME_input.npy      the first 8 test images, float32 [8,1,28,28]
  NAME_expected.npy   the torch model's logits for them, float32 [8,10]
  NAME_labels.npy     their true labels, int64 [8]
and prints the test accuracy. The ONNX is checked with onnx.checker and run
through a small numpy interpreter that must reproduce the torch logits.

Deterministic for a given seed on one thread (torch 1.13, Debian python3-torch).
Run with Debian's python: /usr/bin/python3 tools/train_default_model.py
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPSET = 13


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)   # 16x14x14
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)   # 32x7x7
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


# --- a tiny numpy ONNX interpreter, only for the ops this model exports to ---
def _conv(x, w, b, pads, strides):
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (x.shape[2] - kh) // strides[0] + 1
    ow = (x.shape[3] - kw) // strides[1] + 1
    out = np.zeros((n, m, oh, ow), np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + strides[0] * oh:strides[0], j:j + strides[1] * ow:strides[1]]
            out += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def _maxpool(x, k, s):
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.full((n, c, oh, ow), -np.inf)
    for i in range(k[0]):
        for j in range(k[1]):
            out = np.maximum(out, x[:, :, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]])
    return out


def run_onnx_numpy(model_proto, x):
    from onnx import helper, numpy_helper
    env = {t.name: numpy_helper.to_array(t).astype(np.float64)
           if numpy_helper.to_array(t).dtype.kind == "f" else numpy_helper.to_array(t)
           for t in model_proto.graph.initializer}
    env[model_proto.graph.input[0].name] = x.astype(np.float64)
    for node in model_proto.graph.node:
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            assert a.get("group", 1) == 1 and all(d == 1 for d in a.get("dilations", [1, 1]))
            y = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None,
                      a.get("pads", [0, 0, 0, 0]), a.get("strides", [1, 1]))
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "MaxPool":
            assert not any(a.get("pads", [0])), "padded MaxPool not supported"
            y = _maxpool(ins[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]))
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = ins[0].T if a.get("transA", 0) else ins[0]
            B = ins[1].T if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * A @ B
            if len(ins) > 2:
                y = y + a.get("beta", 1.0) * ins[2]
        else:
            raise NotImplementedError(f"numpy check: op {op} not supported")
        env[node.output[0]] = y
    return env[model_proto.graph.output[0].name].astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", default=os.path.join(REPO_ROOT, "models", "fashion_cnn.onnx"),
                    help="output .onnx path (default: <repo>/models/fashion_cnn.onnx)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--data", default=None, help="Fashion-MNIST directory")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    t0 = time.time()

    xtr, ytr = (torch.from_numpy(a) for a in fashion_mnist.load("train", args.data))
    xte, yte = (torch.from_numpy(a) for a in fashion_mnist.load("test", args.data))

    model = FashionCNN()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * ((len(xtr) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    gen = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
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
        acc = evaluate(model, xte, yte)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total / len(xtr):.4f} "
              f"test acc {acc:.4f} ({time.time() - t0:.0f}s)", flush=True)

    model.eval()
    acc = evaluate(model, xte, yte)

    out = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    stem = out[:-5] if out.endswith(".onnx") else out
    sample = xte[:8].clone()
    with torch.no_grad():
        expected = model(sample).numpy().astype(np.float32)
    torch.onnx.export(model, sample, out, opset_version=OPSET, do_constant_folding=True,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})

    import onnx
    m = onnx.load(out)
    m.doc_string = (f"pith default model: Fashion-MNIST CNN, test accuracy {acc:.4f}, "
                    f"made by tools/train_default_model.py (seed {args.seed}, "
                    f"{args.epochs} epochs)")
    onnx.save(m, out)
    onnx.checker.check_model(m, full_check=True)
    got = run_onnx_numpy(m, sample.numpy())
    err = float(np.abs(got - expected).max())
    if err > 1e-4:
        raise SystemExit(f"numpy run of the ONNX differs from torch: max abs err {err}")

    np.save(stem + "_input.npy", sample.numpy().astype(np.float32))
    np.save(stem + "_expected.npy", expected)
    np.save(stem + "_labels.npy", yte[:8].numpy().astype(np.int64))

    ops = sorted({n.op_type for n in m.graph.node})
    print(f"test accuracy: {acc:.4f}")
    print(f"wrote {out} ({os.path.getsize(out)} bytes, ops {ops}, numpy check max err {err:.2e})")
    print(f"wrote {stem}_input.npy, {stem}_expected.npy, {stem}_labels.npy")
    print(f"sample labels {yte[:8].tolist()}, predicted {expected.argmax(1).tolist()}")
    print(f"total time {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
