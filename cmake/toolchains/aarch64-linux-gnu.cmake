# Cross-compiling pith for 64-bit Arm Linux on a Debian x86_64 host.
#
# Compiler: Debian's g++-aarch64-linux-gnu. Libraries: Debian's multiarch arm64 packages
# (libhwy-dev:arm64, libgtest-dev:arm64, libprotobuf-dev:arm64, ...) in
# /usr/lib/aarch64-linux-gnu, which this compiler searches by itself, so no sysroot is set.
# libonnx-dev:arm64 cannot be co-installed with the host's libonnx-dev (its libonnxifi
# ships /usr/lib/libonnxifi.so outside the multiarch folder), so scripts/install-deps.sh
# unpacks the arm64 ONNX packages into PITH_AARCH64_ONNX_ROOT (default /opt/pith/aarch64-onnx)
# and this file adds that prefix to the package search path.
#
# Binaries run on the host through qemu-user (CMAKE_CROSSCOMPILING_EMULATOR): ctest and
# gtest_discover_tests use it. `-cpu max` enables every Arm feature qemu emulates (NEON, SVE,
# SVE2), so Highway's runtime dispatch can pick each of those targets.
# Usage: cmake --preset aarch64-cross   (or -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake)

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(PITH_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${PITH_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${PITH_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${PITH_CROSS_TRIPLE})

# Programs (protoc, python) come from the host; libraries and headers for the target.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# The arm64 ONNX packages, unpacked beside the system (see above).
if(DEFINED ENV{PITH_AARCH64_ONNX_ROOT})
  set(PITH_AARCH64_ONNX_ROOT "$ENV{PITH_AARCH64_ONNX_ROOT}")
else()
  set(PITH_AARCH64_ONNX_ROOT /opt/pith/aarch64-onnx)
endif()
if(EXISTS "${PITH_AARCH64_ONNX_ROOT}/usr/lib/${PITH_CROSS_TRIPLE}/cmake/ONNX/ONNXConfig.cmake")
  list(APPEND CMAKE_PREFIX_PATH "${PITH_AARCH64_ONNX_ROOT}/usr")
endif()

# Run target binaries under qemu-user with the cross C library's loader.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(PITH_QEMU_AARCH64 qemu-aarch64)
  if(PITH_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${PITH_QEMU_AARCH64};-L;/usr/${PITH_CROSS_TRIPLE};-cpu;max"
        CACHE STRING "Runs aarch64 binaries on the build host")
  endif()
endif()
