#!/usr/bin/python3
"""Fashion-MNIST loader for the pith tools.

Makes: nothing on disk. Reads the idx .gz files (default directory
/usr/share/datasets/fashion-mnist, override with $FASHION_MNIST_DIR or the
`root` argument) into numpy arrays:
  images  float32 [N, 1, 28, 28] in [0, 1]
  labels  int64   [N]

Run it directly to print the shapes and a label histogram (a smoke test).
"""
import argparse
import gzip
import os
import struct

import numpy as np

DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def _root(root):
    return root or os.environ.get("FASHION_MNIST_DIR", DEFAULT_ROOT)


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: size {arr.size} does not match dims {dims}")
    return arr.reshape(dims)


def load(split="train", root=None):
    """Return (images float32 [N,1,28,28] in [0,1], labels int64 [N]).

    split is "train" (60000) or "test" (10000, the t10k files)."""
    prefix = {"train": "train", "test": "t10k", "t10k": "t10k"}[split]
    r = _root(root)
    images = _read_idx(os.path.join(r, f"{prefix}-images-idx3-ubyte.gz"))
    labels = _read_idx(os.path.join(r, f"{prefix}-labels-idx1-ubyte.gz"))
    images = (images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    labels = labels.astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise ValueError("image/label count mismatch")
    return images, labels


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=None,
                    help=f"dataset directory (default $FASHION_MNIST_DIR or {DEFAULT_ROOT})")
    args = ap.parse_args()
    for split in ("train", "test"):
        x, y = load(split, args.root)
        print(f"{split}: images {x.shape} {x.dtype} [{x.min():.1f},{x.max():.1f}]"
              f"  labels {y.shape} {y.dtype} counts {np.bincount(y, minlength=10).tolist()}")


if __name__ == "__main__":
    main()
