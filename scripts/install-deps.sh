#!/usr/bin/env bash
# Installs every dependency pith needs, from Debian packages and npm only.
# Idempotent: safe to run again; packages already present are left as they are.
# This is the single place that names them.
set -euo pipefail

APT_PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config git
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # ONNX import (official protobuf schema and shape inference)
  libonnx-dev libprotobuf-dev protobuf-compiler
  # SIMD
  libhwy-dev
  # the .pith artifact: FlatBuffers schema compiled at build time, xxHash64 checksums, zstd segments
  flatbuffers-compiler libflatbuffers-dev libxxhash-dev libzstd-dev
  # artifact signatures (Ed25519)
  libsodium-dev
  # device profiles and deploy reports (JSON)
  nlohmann-json3-dev
  # pith serve: HTTP (cpp-httplib), image decoding (stb_image), the load test (wrk)
  libcpp-httplib-dev libstb-dev wrk
  # microcontroller export tests: Cortex-M4 cross compiler, C library, emulator (scripts/test-cortex-m4.sh)
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  # libFuzzer on the artifact reader (scripts/fuzz-artifact.sh)
  clang libclang-rt-14-dev
  # data: ONNX backend test suite, Fashion-MNIST
  libonnx-testdata dataset-fashion-mnist
  # tools/ (model export and reference data; never used at run time)
  python3 python3-numpy python3-torch python3-torchvision python3-onnx
)

# aarch64 cross build, tests under qemu-user (scripts/test-aarch64.sh; PITH_SKIP_AARCH64=1 skips):
# the cross compiler, the emulator, and the arm64 builds of the libraries (Debian multiarch).
AARCH64_APT_PACKAGES=(
  g++-aarch64-linux-gnu qemu-user
  libhwy-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64 libprotobuf-dev:arm64
  libzstd-dev:arm64 libxxhash-dev:arm64 libflatbuffers-dev:arm64 libsodium-dev:arm64
)
# libonnx-dev:arm64 cannot be installed beside the host's libonnx-dev: its dependency
# libonnxifi (Multi-Arch: same) ships an architecture-specific /usr/lib/libonnxifi.so, and dpkg
# refuses the second copy. So these arm64 packages are fetched from Debian with apt-get download
# and unpacked into their own prefix, which cmake/toolchains/aarch64-linux-gnu.cmake searches.
AARCH64_ONNX_DEBS=(libonnx1 libonnx-dev libonnxifi)
AARCH64_ONNX_ROOT=${PITH_AARCH64_ONNX_ROOT:-/opt/pith/aarch64-onnx}

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_update=0
if [ "${PITH_SKIP_AARCH64:-0}" != 1 ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "install-deps: enabling the arm64 architecture (multiarch)"
    $SUDO dpkg --add-architecture arm64
    need_update=1
  fi
  APT_PACKAGES+=("${AARCH64_APT_PACKAGES[@]}")
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
  if ((need_update)); then $SUDO apt-get update -qq; fi
fi

if [ "${PITH_SKIP_AARCH64:-0}" != 1 ]; then
  # Same version as the host's libonnx-dev, whose headers (shared, in /usr/include) are used.
  onnx_version=$(dpkg-query -W -f='${Version}' "libonnx-dev:$(dpkg --print-architecture)")
  stamp="$AARCH64_ONNX_ROOT/.debian-version"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$onnx_version" ]; then
    echo "install-deps: unpacking ${AARCH64_ONNX_DEBS[*]} (arm64 $onnx_version) into $AARCH64_ONNX_ROOT"
    tmp=$(mktemp -d)
    chmod 777 "$tmp"  # apt-get download writes as the _apt user
    debs=("${AARCH64_ONNX_DEBS[@]/%/:arm64=$onnx_version}")
    (cd "$tmp" && { apt-get download -qq "${debs[@]}" || { $SUDO apt-get update -qq && apt-get download -qq "${debs[@]}"; }; })
    $SUDO rm -rf "$AARCH64_ONNX_ROOT"
    $SUDO mkdir -p "$AARCH64_ONNX_ROOT"
    for deb in "$tmp"/*_arm64.deb; do $SUDO dpkg-deb -x "$deb" "$AARCH64_ONNX_ROOT"; done
    echo "$onnx_version" | $SUDO tee "$stamp" >/dev/null
    rm -rf "$tmp"
  fi
fi
