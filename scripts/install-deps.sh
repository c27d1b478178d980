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
  # data: ONNX backend test suite, Fashion-MNIST
  libonnx-testdata dataset-fashion-mnist
  # tools/ (model export and reference data; never used at run time)
  python3 python3-numpy python3-torch python3-torchvision python3-onnx
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi
