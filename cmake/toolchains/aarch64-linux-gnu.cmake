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
#
# The aarch64-cross preset (CMakePresets.json) also sets, for the kernels as they are today:
#   PITH_HWY_DISABLED_TARGETS=HWY_SVE|HWY_SVE2|HWY_SVE_256|HWY_SVE2_128: sgemm.cpp keeps its
#     accumulators in arrays of vectors, which SVE's sizeless vector types cannot be.
#     NEON, the aarch64 baseline, is then the one target: kernels are called statically (no
#     dispatch table, no scalar fallback a device would never run), and the SIMD tests run on
#     NEON.
#   -ffp-contract=off: aarch64 has FMA in its base ISA, so GCC's default contraction fuses
#     a*b+c differently per code path in scalar code, and results then depend on how rows
#     are split between threads (seen on the SCALAR target's GEMV); x86-64's baseline has
#     no FMA, so this gives the reference and scalar kernels the host build's rounding.

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

# Run target binaries under qemu-user. No `-L /usr/aarch64-linux-gnu`: the multiarch -dev
# packages above bring libc6:arm64 (/lib/ld-linux-aarch64.so.1, /lib/aarch64-linux-gnu), and
# with -L the loader would come from libc6-arm64-cross (another glibc build) while libc.so.6
# still comes from /lib/aarch64-linux-gnu; that mix hangs in pthread_create. Without -L the
# loader and every library come from the multiarch packages, one consistent set.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(PITH_QEMU_AARCH64 qemu-aarch64)
  if(PITH_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${PITH_QEMU_AARCH64};-cpu;max"
        CACHE STRING "Runs aarch64 binaries on the build host")
  endif()
endif()
