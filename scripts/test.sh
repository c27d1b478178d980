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
step() { echo "== $1 (at ${SECONDS} s)"; }  # where CI's time goes

step "release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS"

step "model zoo (torchvision exports with PyTorch reference outputs; cached)"
/usr/bin/python3 tools/export_zoo.py --out build/zoo

step "Fashion-MNIST test and calibration sets (for the int8 accuracy test)"
/usr/bin/python3 tools/train_compress_models.py --out build/fashion --data-only

step "release tests"
ctest --preset release -j "$JOBS"

[ "${PITH_SKIP_MCU:-0}" = 1 ] || bash scripts/test-cortex-m4.sh  # C export, Cortex-M4 under qemu-system-arm

if [ "${PITH_SKIP_ASAN:-0}" != 1 ]; then
  step "AddressSanitizer + UndefinedBehaviorSanitizer build"
  cmake --preset asan-ubsan >/dev/null
  cmake --build --preset asan-ubsan -j "$JOBS"
  step "sanitizer tests"
  # Not the zoo and not the two whole-dataset CLI runs (a deploy search, 10,000 images through
  # int8): the same code runs sanitized in the planner, compress and eval tests on small data,
  # and those two alone took 140 s here.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan-ubsan -j "$JOBS" \
    -E '^(zoo_models|Cli\.DeployFindsAnArtifactThatFitsAndReportsTheSearch|Cli\.Int8KeepsTheDefaultModelsAccuracyOnTheTestSet)$'
fi

[ "${PITH_SKIP_FUZZ:-0}" = 1 ] || bash scripts/fuzz-artifact.sh  # libFuzzer on the .pith reader, bounded time

[ "${PITH_SKIP_AARCH64:-0}" = 1 ] || bash scripts/test-aarch64.sh  # aarch64 cross build, tests under qemu
echo "== all tests passed in ${SECONDS} s"
