// Cost model: latency and energy of one inference of a (lowered) graph on a device, from
// its operation counts, without running it there.
//   Latency, per node (a roofline): max(MACs * 2 / throughput, bytes moved / bandwidth),
//   with throughput the device's sustained fp32 or int8 figure for the node's precision
//   and bytes moved = the node's weights (as stored at run time) + its activations read and
//   written. Summed over nodes, one core.
//   Energy, per node: MACs times the energy of one multiply-add at the node's precision,
//   plus weight bytes fetched from DRAM (on a microcontroller: from on-chip flash/SRAM)
//   plus activation bytes moved through on-chip SRAM, with the 45 nm figures of
//   M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014:
//   fp32 mult 3.7 pJ + add 0.9 pJ; int8 mult 0.2 pJ + int32 add 0.1 pJ; 32-bit read from an
//   8 KB SRAM 5 pJ, from a 1 MB SRAM ~50 pJ (64-bit: 100 pJ), from DRAM 640 pJ.
//   Newer processes spend less per operation; the figures rank candidates, they are not a
//   power measurement.
// Calibration (deploy/planner.cpp): the host runs the model and is estimated on its own
// measured throughput (targets/host_probe.h); the time it takes beyond its roofline
// (dispatch, small shapes, packing: instruction-bound work) carries over to the target
// scaled by the clock ratio, on top of the target's roofline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace pith::targets {

struct Throughput {
  double fp32_gflops = 0, int8_gops = 0, bandwidth_gbs = 0;
  bool weights_on_chip = false;  // microcontrollers: weights in flash next to the core, not DRAM
};

struct NodeCost {
  std::string node, op;
  int64_t macs = 0;
  bool int8 = false;
  uint64_t weight_bytes = 0, activation_bytes = 0;
  double compute_ms = 0, memory_ms = 0;  // the node's latency is the larger
  double energy_mj = 0;
};

struct CostEstimate {
  double latency_ms = 0, energy_mj = 0;
  int64_t fp32_macs = 0, int8_macs = 0;
  uint64_t weight_bytes = 0, activation_bytes = 0;
  std::vector<NodeCost> nodes;
};

// Shapes come from the graph's value_info (symbolic dimensions count as 1).
CostEstimate estimate_cost(const Graph& g, const Throughput& device);

// Energy of one multiply-accumulate and of moving one byte, in picojoules (Horowitz 2014).
struct EnergyTable {
  double fp32_mac_pj = 3.7 + 0.9, int8_mac_pj = 0.2 + 0.1;
  double dram_byte_pj = 640.0 / 4, sram_1mb_byte_pj = 100.0 / 8, sram_8kb_byte_pj = 5.0 / 4;
};

}  // namespace pith::targets
