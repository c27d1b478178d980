#!/usr/bin/env bash
# Installs dependencies, builds pith, makes the test models, and runs every test:
# the release build (unit tests, CLI tests, ONNX backend conformance, the model zoo
# against PyTorch), then the suite again under AddressSanitizer + UBSan.
# Set PITH_SKIP_ASAN=1 to skip the sanitizer pass during development.
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

if [ "${PITH_SKIP_ASAN:-0}" != 1 ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
  cmake --preset asan-ubsan >/dev/null
  cmake --build --preset asan-ubsan -j "$JOBS"
  echo "== sanitizer tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan-ubsan -j "$JOBS" -E zoo_models
fi

[ "${PITH_SKIP_AARCH64:-0}" = 1 ] || bash scripts/test-aarch64.sh  # aarch64 cross build, tests under qemu
