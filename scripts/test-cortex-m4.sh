#!/usr/bin/env bash
# The C export on a Cortex-M4 under QEMU (mps2-an386, semihosting): for the bundled default
# model (fp32 and int8), the Fashion-MNIST compact CNN (fp32 and int8) and LeNet-5 (int8; its
# fp32 weights, 1.7 MB, exceed the profile's 1 MiB of flash), `pith export --format c`, a
# build with arm-none-eabi-gcc (-mcpu=cortex-m4 -mfloat-abi=hard, -ffp-contract=off), a
# check of the model's flash and RAM (arm-none-eabi-size) against the cortex-m4 profile, a
# run on 8 test images, and a comparison with pith on the host: int8 bit for bit, fp32
# within 1e-5. The two Fashion-MNIST models are trained for one epoch on 10,000 images here
# (cached in build/mcu/models): the test is about equality with the host, not accuracy.
# scripts/test.sh calls this; PITH_SKIP_MCU=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
pith=build/release/pith
out=build/mcu
models=$out/models
harness="/usr/bin/python3 tests/mcu/harness.py"
[ -x "$pith" ] || { echo "test-cortex-m4: build the release preset first ($pith)"; exit 1; }
mkdir -p "$out"

if [ ! -f "$models/lenet5.onnx" ] || [ ! -f "$models/compact_cnn.onnx" ]; then
  echo "== LeNet-5 and the compact CNN, one epoch on 10,000 images each (tools/train_compress_models.py)"
  /usr/bin/python3 tools/train_compress_models.py --out "$models" --models lenet5,compact_cnn --epochs 1 \
    --train-samples 10000 --threads "$(nproc)"
fi
$pith profiles cortex-m4 --json > "$out/cortex-m4.json"
$harness inputs --images "$models/test_images.npy" --count 8 --out "$out/inputs.h"
$harness slice --images "$models/test_images.npy" --count 8 --out "$out/images8.npy"

CFLAGS=(-std=c99 -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -ffp-contract=off
        -Wall -Wextra -Werror -Wno-unused-parameter)
run_case() {  # name model precision
  local name=$1 model=$2 precision=$3 dir=$out/$1_$3 artifact
  echo "== $name $precision"
  mkdir -p "$dir"
  artifact=$model
  if [ "$precision" = int8 ]; then
    artifact=$dir/$name.pith
    $pith compress "$model" -o "$artifact" --quantize int8 --calibration "$models/calibration.npy" >/dev/null 2>&1
  fi
  $pith export "$artifact" --format c -o "$dir" --name model
  arm-none-eabi-gcc "${CFLAGS[@]}" -c "$dir/model.c" -o "$dir/model.o"
  arm-none-eabi-size "$dir/model.o" > "$dir/size.txt"
  $harness budget --size "$dir/size.txt" --profile "$out/cortex-m4.json"
  arm-none-eabi-gcc "${CFLAGS[@]}" --specs=rdimon.specs -nostartfiles -T tests/mcu/mps2_an386.ld -I"$dir" -I"$out" \
    tests/mcu/startup.c tests/mcu/main.c "$dir/model.o" -lm -o "$dir/test.elf"
  timeout 600 qemu-system-arm -M mps2-an386 -nographic -semihosting -kernel "$dir/test.elf" > "$dir/qemu.txt"
  $pith run "$artifact" --input "$out/images8.npy" --output-dir "$dir/host" >/dev/null
  if [ "$precision" = int8 ]; then
    $harness compare --qemu "$dir/qemu.txt" --host "$dir/host/0.npy" --exact
  else
    $harness compare --qemu "$dir/qemu.txt" --host "$dir/host/0.npy" --tolerance 1e-5
  fi
}
run_case fashion_cnn models/fashion_cnn.onnx fp32
run_case fashion_cnn models/fashion_cnn.onnx int8
run_case compact_cnn "$models/compact_cnn.onnx" fp32
run_case compact_cnn "$models/compact_cnn.onnx" int8
run_case lenet5 "$models/lenet5.onnx" int8
echo "== Cortex-M4: $((SECONDS - start)) s"
