// The host's own sustained throughput, measured with pith's kernels (about 0.2 s, once per
// process): fp32 GFLOP/s of the packed SGEMM and int8 GOP/s of the int8 GEMM on one core at
// a cache-resident 192x192x192 size, and memory bandwidth from copying 64 MiB (bytes read
// plus written). The cost model runs on these to calibrate its estimates for other devices.
#pragma once

#include "targets/cost_model.h"

namespace pith::targets {

const Throughput& measured_host_throughput();

// The host CPU's clock in MHz as the kernel reports it (/proc/cpuinfo), 0 when unknown.
double host_clock_mhz();

}  // namespace pith::targets
