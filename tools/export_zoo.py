#!/usr/bin/python3
"""Export a zoo of real architectures, with RANDOM weights, to ONNX for pith's model tests.

Makes, in --out (e.g. build/zoo), for each model NAME:
  NAME.onnx           ONNX (opset 13 unless noted in the manifest), constant-folded,
                      input "input" (batch 1), output "output"
  NAME_input.npy      float32 standard-normal input (seeded per model)
  NAME_expected.npy   float32 output of the torch model (eval mode) for that input
  manifest.json       {"torch": version, "base_seed": s, "models": {NAME: {opset, input/output shapes, output range, ops, size, sha256, ...}}}

No pretrained weights are used (none can be downloaded): every model is built with
a fixed seed (seed + crc32(NAME), so any subset gives the same files), and every
BatchNorm gets random running stats (mean ~ N(0,0.1^2), var ~ U(0.5,1.5)) and a random
affine transform, every LayerNorm a random affine transform, so no op is an identity.
Each ONNX is checked with onnx.checker (full_check, i.e. with shape inference).

Existing models are skipped unless --force (so CI can cache the output directory).
Opset: 13 is tried first; on export failure 14..17 are tried in turn.
Run with Debian's python: /usr/bin/python3 tools/export_zoo.py --out build/zoo
"""
import argparse
import hashlib
import json
import os
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn

OPSETS = (13, 14, 15, 16, 17)


# ---------------------------------------------------------------- models
class KwsLSTM(nn.Module):
    """Keyword spotting: [B, 49 frames, 40 MFCC] -> 2-layer LSTM(64) -> Linear(12) on the last step."""

    def __init__(self, n_mfcc=40, hidden=64, classes=12):
        super().__init__()
        self.lstm = nn.LSTM(n_mfcc, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1, :])


def _tv(name, **kw):
    def build():
        import torchvision.models as tvm
        return getattr(tvm, name)(weights=None, **kw)
    return build


def _vit():
    from torchvision.models.vision_transformer import VisionTransformer
    m = VisionTransformer(image_size=64, patch_size=8, num_layers=4, num_heads=4,
                          hidden_dim=128, mlp_dim=256, num_classes=10)
    # torchvision zero-initialises the head and the class token: randomise them so
    # the output is not a constant.
    with torch.no_grad():
        nn.init.normal_(m.heads.head.weight, std=0.05)
        nn.init.normal_(m.heads.head.bias, std=0.05)
        nn.init.normal_(m.class_token, std=0.02)
    return m


IMG = (1, 3, 224, 224)
# name -> (builder, input shape, note)
MODELS = {
    "mobilenet_v2":       (_tv("mobilenet_v2"), IMG, ""),
    "mobilenet_v3_small": (_tv("mobilenet_v3_small"), IMG, ""),
    "resnet18":           (_tv("resnet18"), IMG, ""),
    "squeezenet1_1":      (_tv("squeezenet1_1"), IMG, ""),
    "shufflenet_v2_x1_0": (_tv("shufflenet_v2_x1_0"), IMG, ""),
    "efficientnet_b0":    (_tv("efficientnet_b0"), IMG, ""),
    "mnasnet0_5":         (_tv("mnasnet0_5"), IMG, ""),
    "regnet_x_400mf":     (_tv("regnet_x_400mf"), IMG, ""),
    "googlenet":          (_tv("googlenet", aux_logits=False, init_weights=True), IMG, ""),
    "vit_tiny":           (_vit, (1, 3, 64, 64),
                           "VisionTransformer image 64, patch 8, 4 layers, 4 heads, dim 128, mlp 256, 10 classes"),
    "kws_lstm":           (KwsLSTM, (1, 49, 40),
                           "2-layer LSTM(40->64) + Linear(64->12) on the last frame"),
}


# ---------------------------------------------------------------- helpers
def randomize_norms(model, gen):
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                n = mod.num_features
                mod.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                mod.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                if mod.affine:
                    mod.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                    mod.bias.copy_(torch.randn(n, generator=gen) * 0.1)
            elif isinstance(mod, nn.LayerNorm) and mod.elementwise_affine:
                s = mod.normalized_shape
                mod.weight.copy_(torch.rand(s, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(s, generator=gen) * 0.1)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def paths(out, name):
    return {k: os.path.join(out, f"{name}{suffix}") for k, suffix in
            (("onnx", ".onnx"), ("input", "_input.npy"), ("expected", "_expected.npy"))}


def export_one(name, out, seed):
    import onnx
    builder, shape, note = MODELS[name]
    s = (seed + zlib.crc32(name.encode())) & 0x7FFFFFFF
    torch.manual_seed(s)
    model = builder()
    randomize_norms(model, torch.Generator().manual_seed(s + 1))
    model.eval()
    x = torch.from_numpy(np.random.RandomState(s).standard_normal(shape).astype(np.float32))
    with torch.no_grad():
        expected = model(x).numpy().astype(np.float32)
    if not np.all(np.isfinite(expected)) or float(expected.std()) == 0.0:
        raise RuntimeError(f"degenerate torch output (std {expected.std()})")

    p = paths(out, name)
    tmp = p["onnx"] + ".tmp"
    errors = []
    for opset in OPSETS:
        try:
            # Export with autograd ON: under no_grad, nn.MultiheadAttention (ViT) takes
            # its fused fast path, aten::_native_multi_head_attention, which torch 1.13
            # cannot export at any opset.
            with torch.enable_grad():
                torch.onnx.export(model, x, tmp, opset_version=opset, do_constant_folding=True,
                                  input_names=["input"], output_names=["output"])
            m = onnx.load(tmp)
            onnx.checker.check_model(m, full_check=True)
            break
        except Exception as e:  # try the next opset
            msg = str(e).splitlines()[0][:200] if str(e) else ""
            errors.append(f"opset {opset} failed: {type(e).__name__}: {msg}")
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        raise RuntimeError("; ".join(errors))

    np.save(p["input"], x.numpy())
    np.save(p["expected"], expected)
    os.replace(tmp, p["onnx"])  # the .onnx appears last: its presence means "complete"
    return {
        "opset": opset,
        "opset_note": "; ".join(errors),
        "note": note,
        "input_shape": list(shape),
        "output_shape": list(expected.shape),
        "output_min": float(expected.min()),
        "output_max": float(expected.max()),
        "output_std": float(expected.std()),
        "params": int(sum(t.numel() for t in model.state_dict().values())),
        "ops": sorted({n.op_type for n in m.graph.node}),
        "nodes": len(m.graph.node),
        "onnx_bytes": os.path.getsize(p["onnx"]),
        "onnx_sha256": sha256(p["onnx"]),
        "seed": s,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/zoo", help="output directory (default build/zoo)")
    ap.add_argument("--models", default="all",
                    help="comma-separated subset of model names (default: all)")
    ap.add_argument("--list", action="store_true", help="list the model names and exit")
    ap.add_argument("--force", action="store_true", help="re-export models that already exist")
    ap.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args()

    if args.list:
        for name, (_, shape, note) in MODELS.items():
            print(f"{name:20s} input {list(shape)}  {note}")
        return 0

    names = list(MODELS) if args.models == "all" else [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s): {', '.join(unknown)} (see --list)")

    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    manifest = {"models": {}}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    manifest["torch"] = torch.__version__
    manifest["base_seed"] = args.seed

    failed = []
    for name in names:
        p = paths(args.out, name)
        if not args.force and all(os.path.exists(v) for v in p.values()):
            print(f"{name}: exists, skipped (--force to redo)")
            continue
        t0 = time.time()
        try:
            info = export_one(name, args.out, args.seed)
        except Exception as e:
            print(f"{name}: FAILED: {e}", file=sys.stderr)
            failed.append(name)
            continue
        info["export_seconds"] = round(time.time() - t0, 1)
        manifest["models"][name] = info
        with open(manifest_path, "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
        print(f"{name}: opset {info['opset']}, {info['onnx_bytes'] / 1e6:.1f} MB, {info['nodes']} nodes, "
              f"out {info['output_shape']} [{info['output_min']:.3g}, {info['output_max']:.3g}] "
              f"({info['export_seconds']}s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
