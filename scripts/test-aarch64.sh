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
# Also prints the Highway target the dispatcher picks and the stripped size of the runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

echo "== aarch64 cross build"
cmake --preset aarch64-cross >/dev/null
# Only what runs here (the CLI and its tests need a host that can start aarch64 children).
cmake --build --preset aarch64-cross -j "$(nproc)" --target pith_unit_tests pith_conformance pith_zoo_test \
  pith_simd_target pith_session_only

if [ ! -f build/zoo/manifest.json ]; then
  echo "== model zoo (torchvision exports with PyTorch reference outputs; cached)"
  /usr/bin/python3 tools/export_zoo.py --out build/zoo
fi

echo "== Highway dispatch under qemu-aarch64 -cpu max"
qemu-aarch64 -cpu max build/aarch64/pith_simd_target

echo "== runtime size (pith_core + pith_ir + pith_runtime in a program that creates a Session, stripped)"
aarch64-linux-gnu-strip -o build/aarch64/pith_session_only.stripped build/aarch64/pith_session_only
echo "aarch64 runtime: $(stat -c %s build/aarch64/pith_session_only.stripped) bytes stripped" \
  "(+ libhwy.so.1, libstdc++ and libc shared)"

echo "== aarch64 tests under qemu"
ctest --preset aarch64-cross -j "$(nproc)" -E '^Cli(Errors)?\.|_NOT_BUILT$'
echo "== aarch64 build and tests: $((SECONDS - start)) s"
