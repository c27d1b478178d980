#!/usr/bin/env bash
# Cross-compiles pith for aarch64 and runs its tests under qemu-user, so the NEON kernels
# are exercised on every change (scripts/test.sh calls this; PITH_SKIP_AARCH64=1 skips it).
#   build: cmake --preset aarch64-cross (g++-aarch64-linux-gnu, cmake/toolchains/aarch64-linux-gnu.cmake,
#          arm64 libraries from Debian multiarch; scripts/install-deps.sh installs them)
#   tests: ctest under `qemu-aarch64 -cpu max`: the unit tests (every SIMD kernel against its
#          reference kernel on each Highway target the emulated CPU supports), the ONNX backend
#          conformance gate, and the zoo against PyTorch (build/zoo, exported on the host).
#          Not the CLI tests: they start the aarch64 `pith` as a child process, which the host
#          cannot execute without binfmt_misc.
# Also prints the Highway target the dispatcher picks and the stripped size of the runtime:
# whole, and in selective builds that keep only one model's kernels (cmake/probes), each run
# under qemu on its artifact with the same outputs as the whole runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

# Selective runtime builds: the artifacts the probes run (written by the host's pith) and
# the kernels each needs, one NAME.ops file per artifact.
host_pith=build/release/pith
probes=build/aarch64-probes
[ -x "$host_pith" ] || { echo "test-aarch64: build the release preset first ($host_pith)"; exit 1; }
if [ ! -f build/zoo/manifest.json ]; then
  echo "== model zoo (torchvision exports with PyTorch reference outputs; cached)"
  /usr/bin/python3 tools/export_zoo.py --out build/zoo
fi
mkdir -p "$probes"
$host_pith compress models/fashion_cnn.onnx -o "$probes/fashion_cnn_fp32.pith" >/dev/null
$host_pith compress models/fashion_cnn.onnx -o "$probes/fashion_cnn_int8.pith" --quantize int8 \
  --calibration build/fashion/calibration.npy >/dev/null
$host_pith compress build/zoo/mobilenet_v2.onnx -o "$probes/mobilenet_v2_fp32.pith" >/dev/null
$host_pith compress build/zoo/mobilenet_v2.onnx -o "$probes/mobilenet_v2_int8.pith" --quantize int8 \
  --calibration build/zoo/mobilenet_v2_input.npy >/dev/null
artifacts=(fashion_cnn_fp32 fashion_cnn_int8 mobilenet_v2_fp32 mobilenet_v2_int8)
for a in "${artifacts[@]}"; do
  $host_pith inspect "$probes/$a.pith" --kernels > "$probes/$a.ops.new"
  cmp -s "$probes/$a.ops.new" "$probes/$a.ops" || mv "$probes/$a.ops.new" "$probes/$a.ops"  # keeps the build cached
  rm -f "$probes/$a.ops.new"
done

echo "== aarch64 cross build"
cmake --preset aarch64-cross -DPITH_PROBE_OPS_DIR="$PWD/$probes" >/dev/null
# Only what runs here (the CLI and its tests need a host that can start aarch64 children).
cmake --build --preset aarch64-cross -j "$(nproc)" --target pith_unit_tests pith_conformance pith_zoo_test \
  pith_simd_target pith_session_only pith_run_artifact "${artifacts[@]/#/pith_run_artifact_}"

echo "== Highway dispatch under qemu-aarch64 -cpu max"
qemu-aarch64 -cpu max build/aarch64/pith_simd_target

stripped_size() {  # program -> bytes once stripped
  aarch64-linux-gnu-strip -o "build/aarch64/$1.stripped" "build/aarch64/$1"
  stat -c %s "build/aarch64/$1.stripped"
}
echo "== runtime size, stripped (+ libhwy.so.1, libstdc++ and libc shared; the artifact reader also zstd and libsodium)"
echo "aarch64 runtime, every kernel, a program that creates a Session: $(stripped_size pith_session_only) bytes"
echo "aarch64 runtime + artifact reader, every kernel: $(stripped_size pith_run_artifact) bytes"
echo "== selective builds (only the kernels of one artifact) run it under qemu like the full build"
for a in "${artifacts[@]}"; do
  full=$(qemu-aarch64 -cpu max build/aarch64/pith_run_artifact "$probes/$a.pith")
  selective=$(qemu-aarch64 -cpu max "build/aarch64/pith_run_artifact_$a" "$probes/$a.pith")
  if [ "$full" != "$selective" ]; then
    echo "selective build of $a differs from the full build:"; echo "$full"; echo "$selective"; exit 1
  fi
  echo "aarch64 runtime + artifact reader for $a ($(grep -vc '^#' "$probes/$a.ops") kernels:" \
    "$(grep -v '^#' "$probes/$a.ops" | paste -sd ' ')): $(stripped_size "pith_run_artifact_$a") bytes; $selective"
done

echo "== aarch64 tests under qemu"
# Not OptimizeZoo either: the graph passes are the same on every ISA (the host run checks them),
# and zoo_models runs the optimized zoo on NEON against PyTorch. Nor run_allocations (the
# runner and the kernels' buffers are the same code on every ISA; four runs of each zoo model
# under emulation would add minutes).
ctest --preset aarch64-cross -j "$(nproc)" -E '^Cli(Errors)?\.|_NOT_BUILT$|^OptimizeZoo\.|^run_allocations$'
echo "== aarch64 build and tests: $((SECONDS - start)) s"
