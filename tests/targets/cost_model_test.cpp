// The cost model on a graph whose costs are known by hand: a roofline per node, and
// energy from the Horowitz table by precision and where the bytes come from.
#include <gtest/gtest.h>

#include "compress/quantize/int8.h"
#include "ir/analysis.h"
#include "targets/cost_model.h"
#include "targets/host_probe.h"
#include "test_util/small_cnn.h"

namespace pith::targets {
namespace {

using namespace test_util;

// x [1, 256] -> Gemm (W 256x512) -> y [1, 512]: 131072 MACs, 512 KiB of fp32 weights.
Graph one_gemm() {
  Graph g;
  g.opset = 13;
  g.inputs.push_back(info("x", {Dim{1, ""}, Dim{256, ""}}));
  g.outputs.push_back(info("y", {Dim{1, ""}, Dim{512, ""}}));
  g.initializers["w"] = uniform_tensor({512, 256}, 1);
  g.nodes.push_back(make_node("Gemm", "fc", {"x", "w"}, {"y"}, {{"transB", attr_int(1)}}));
  return g;
}

TEST(CostModel, RooflineTakesTheSlowerOfComputeAndMemory) {
  const Graph g = one_gemm();
  Throughput fast_memory{1.0, 4.0, 1000.0, false};  // 1 GFLOP/s, 1 TB/s: compute-bound
  CostEstimate c = estimate_cost(g, fast_memory);
  ASSERT_EQ(c.nodes.size(), 1u);
  EXPECT_EQ(c.fp32_macs, 131072);
  EXPECT_EQ(c.nodes[0].weight_bytes, 512u * 256 * 4);
  EXPECT_EQ(c.nodes[0].activation_bytes, (256u + 512) * 4);
  EXPECT_NEAR(c.latency_ms, 2.0 * 131072 / 1e9 * 1e3, 1e-9);
  Throughput slow_memory{1000.0, 4000.0, 0.1, false};  // memory-bound
  c = estimate_cost(g, slow_memory);
  EXPECT_NEAR(c.latency_ms, double(512 * 256 * 4 + 768 * 4) / 0.1e9 * 1e3, 1e-9);
  // Energy: MACs at 4.6 pJ, weights from DRAM at 160 pJ/B, activations from SRAM at 1.25 pJ/B.
  const double pj = 131072 * 4.6 + 512.0 * 256 * 4 * 160 + 768.0 * 4 * 1.25;
  EXPECT_NEAR(c.energy_mj, pj * 1e-9, 1e-12);
  Throughput on_chip = slow_memory;
  on_chip.weights_on_chip = true;
  EXPECT_LT(estimate_cost(g, on_chip).energy_mj, c.energy_mj / 10);
}

TEST(CostModel, Int8NodesUseTheInt8ThroughputAndEnergy) {
  Graph f = small_cnn(), q = small_cnn();
  quantize_int8_static(q, images(32, 1));
  optimize(q);
  const Throughput device{1.0, 4.0, 1000.0, false};
  const CostEstimate fe = estimate_cost(f, device), qe = estimate_cost(q, device);
  EXPECT_EQ(fe.int8_macs, 0);
  EXPECT_EQ(qe.fp32_macs, 0);
  EXPECT_EQ(qe.int8_macs, fe.fp32_macs);  // every MAC of this model runs in int8
  EXPECT_EQ(fe.fp32_macs, analyze(f).macs);
  EXPECT_LT(qe.latency_ms, fe.latency_ms / 3);
  EXPECT_LT(qe.energy_mj, fe.energy_mj / 3);
}

TEST(CostModel, HostThroughputIsMeasured) {
  const Throughput& t = measured_host_throughput();
  EXPECT_GT(t.fp32_gflops, 0.1);
  EXPECT_GT(t.int8_gops, 0.1);
  EXPECT_GT(t.bandwidth_gbs, 0.1);
}

}  // namespace
}  // namespace pith::targets
