#include "targets/cost_model.h"

#include <algorithm>

#include "ir/analysis.h"

namespace pith::targets {

namespace {

bool is_int8_node(const Node& n) { return n.domain == "pith" && (n.op_type == "QConv" || n.op_type == "QGemm"); }

uint64_t value_bytes(const Graph& g, const std::string& name) {
  if (name.empty()) return 0;
  auto init = g.initializers.find(name);
  if (init != g.initializers.end()) return init->second.nbytes();
  const ValueInfo* v = g.find_value_info(name);
  auto shape = static_shape(g, name);
  if (!v || !shape) return 0;
  return uint64_t(shape_numel(*shape)) * uint64_t(std::max<size_t>(dtype_size(v->dtype), 1));
}

}  // namespace

CostEstimate estimate_cost(const Graph& g, const Throughput& device) {
  const EnergyTable e;
  CostEstimate total;
  for (const Node& n : g.nodes) {
    NodeCost c;
    c.node = n.name;
    c.op = (n.domain.empty() ? "" : n.domain + ".") + n.op_type;
    c.int8 = is_int8_node(n);
    c.macs = node_macs(g, n).value_or(0);
    for (auto& in : n.inputs) {
      if (in.empty()) continue;
      (g.initializers.count(in) ? c.weight_bytes : c.activation_bytes) += value_bytes(g, in);
    }
    for (auto& out : n.outputs) c.activation_bytes += value_bytes(g, out);
    const double ops_per_s = 1e9 * (c.int8 ? device.int8_gops : device.fp32_gflops);
    c.compute_ms = ops_per_s > 0 ? 2.0 * double(c.macs) / ops_per_s * 1e3 : 0;
    c.memory_ms =
        device.bandwidth_gbs > 0 ? double(c.weight_bytes + c.activation_bytes) / (device.bandwidth_gbs * 1e9) * 1e3 : 0;
    const double weight_pj = device.weights_on_chip ? e.sram_1mb_byte_pj : e.dram_byte_pj;
    const double pj = double(c.macs) * (c.int8 ? e.int8_mac_pj : e.fp32_mac_pj) + double(c.weight_bytes) * weight_pj +
                      double(c.activation_bytes) * e.sram_8kb_byte_pj;
    c.energy_mj = pj * 1e-9;
    total.latency_ms += std::max(c.compute_ms, c.memory_ms);
    total.energy_mj += c.energy_mj;
    (c.int8 ? total.int8_macs : total.fp32_macs) += c.macs;
    total.weight_bytes += c.weight_bytes;
    total.activation_bytes += c.activation_bytes;
    total.nodes.push_back(std::move(c));
  }
  return total;
}

}  // namespace pith::targets
