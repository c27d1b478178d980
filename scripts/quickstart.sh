#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds pith, and runs its main job on the bundled
# default model (a Fashion-MNIST CNN the project trained itself, models/README.md):
# inspect it, run it on eight test images, benchmark it, then compress it to an int8
# .pith artifact (calibrated on the Fashion-MNIST training images, scored on the 10,000
# test images) and benchmark that; and finally pith's main job, `pith deploy`: the model
# for a Cortex-M4 microcontroller with 10x less storage than the fp32 model and at most
# one point of accuracy lost, searched, measured and reported in build/quickstart/deploy.
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
DATA=build/fashion
echo; echo "== Fashion-MNIST test and calibration sets (tools/train_compress_models.py --data-only)"
/usr/bin/python3 tools/train_compress_models.py --out "$DATA" --data-only
echo; echo "== pith compress $MODEL -> build/quickstart/fashion_cnn_int8.pith"
$PITH compress "$MODEL" -o build/quickstart/fashion_cnn_int8.pith --quantize int8 --entropy \
  --calibration "$DATA/calibration.npy" --data "$DATA/test_images.npy" --labels "$DATA/test_labels.npy"
echo; echo "== pith bench build/quickstart/fashion_cnn_int8.pith"
$PITH bench build/quickstart/fashion_cnn_int8.pith --input models/fashion_cnn_input.npy --iterations 50 --json
echo; echo "== pith deploy $MODEL --target cortex-m4 (10x smaller, <= 1 point lost) -> build/quickstart/deploy"
$PITH profiles cortex-m4 | head -5
$PITH deploy "$MODEL" --target cortex-m4 --max-size-mb 0.0405 --max-accuracy-drop 1 --optimize size \
  --calibration "$DATA/calibration.npy" --data "$DATA/test_images.npy" --labels "$DATA/test_labels.npy" \
  -o build/quickstart/deploy
echo "report: build/quickstart/deploy/report.html"
