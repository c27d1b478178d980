#!/usr/bin/env bash
# Installs dependencies, builds pith, makes the test models, and runs every test:
# the release build (unit tests, CLI tests, ONNX backend conformance, the model zoo
# against PyTorch), the C export on a Cortex-M4 under QEMU, then the suite again under
# AddressSanitizer + UBSan, libFuzzer on the artifact reader, and the aarch64 build under
# qemu-user. PITH_SKIP_ASAN=1, PITH_SKIP_MCU=1, PITH_SKIP_FUZZ=1 and PITH_SKIP_AARCH64=1
# skip those passes during development.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
JOBS=$(nproc)

echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS"

echo "== model zoo (torchvision exports with PyTorch reference outputs; cached)"
/usr/bin/python3 tools/export_zoo.py --out build/zoo

echo "== Fashion-MNIST test and calibration sets (for the int8 accuracy test)"
/usr/bin/python3 tools/train_compress_models.py --out build/fashion --data-only

echo "== release tests"
ctest --preset release -j "$JOBS"

[ "${PITH_SKIP_MCU:-0}" = 1 ] || bash scripts/test-cortex-m4.sh  # C export, Cortex-M4 under qemu-system-arm

if [ "${PITH_SKIP_ASAN:-0}" != 1 ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
  cmake --preset asan-ubsan >/dev/null
  cmake --build --preset asan-ubsan -j "$JOBS"
  echo "== sanitizer tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan-ubsan -j "$JOBS" -E zoo_models
fi

[ "${PITH_SKIP_FUZZ:-0}" = 1 ] || bash scripts/fuzz-artifact.sh  # libFuzzer on the .pith reader, bounded time

[ "${PITH_SKIP_AARCH64:-0}" = 1 ] || bash scripts/test-aarch64.sh  # aarch64 cross build, tests under qemu
