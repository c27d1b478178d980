#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds pith, and runs its main job on the bundled
# default model (a Fashion-MNIST CNN the project trained itself, models/README.md):
# inspect it, run it on eight test images, and benchmark it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target pith

PITH=build/release/pith
MODEL=models/fashion_cnn.onnx
echo; echo "== pith inspect $MODEL"
$PITH inspect "$MODEL"
echo; echo "== pith run $MODEL (8 test images)"
$PITH run "$MODEL" --input models/fashion_cnn_input.npy --output-dir build/quickstart
echo; echo "== pith bench $MODEL"
$PITH bench "$MODEL" --input models/fashion_cnn_input.npy --iterations 50 --json
