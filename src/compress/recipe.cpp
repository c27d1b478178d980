#include "compress/recipe.h"

#include <cstdio>

#include "compress/lowrank.h"
#include "compress/quantize/dynamic_int8.h"
#include "compress/quantize/fp16.h"
#include "compress/quantize/int4.h"
#include "core/block_q4.h"
#include "core/error.h"
#include "passes/passes.h"

namespace pith {

std::string Recipe::label() const {
  std::string s;
  auto add = [&](const std::string& part) { s += (s.empty() ? "" : " + ") + part; };
  char buf[64];
  if (low_rank > 0) {
    std::snprintf(buf, sizeof buf, "low-rank %.2f", low_rank);
    add(buf);
  }
  if (prune) {
    if (pruning.pattern == "2:4") {
      add("prune 2:4");
    } else {
      std::snprintf(buf, sizeof buf, "prune %.2f %s", pruning.sparsity, pruning.allocation.c_str());
      add(buf);
    }
  }
  if (cluster) add("cluster " + std::to_string(cluster));
  if (quantize == "int8") {
    std::string q = weight_bits == 8 ? "int8" : "int8 w" + std::to_string(weight_bits);
    if (!keep_float.empty()) q += " (" + std::to_string(keep_float.size()) + " float)";
    add(q);
  } else if (quantize == "int4") {
    add("int4 g" + std::to_string(block));
  } else if (!quantize.empty()) {
    add(quantize);
  }
  if (entropy) add("zstd");
  return s.empty() ? "fp32" : s;
}

void Recipe::validate(bool have_calibration) const {
  PITH_CHECK(
      quantize.empty() || quantize == "int8" || quantize == "int4" || quantize == "fp16" || quantize == "dynamic-int8",
      "unknown quantization '", quantize, "' (int8, int4, fp16, dynamic-int8)");
  PITH_CHECK(quantize != "int4" || valid_q4_block(block), "int4 blocks must hold 16, 32, 64 or 128 weights, got ",
             block);
  PITH_CHECK(weight_bits == 7 || weight_bits == 8, "int8 weight bits must be 7 or 8, got ", weight_bits);
  PITH_CHECK(cluster == 0 || (cluster >= 2 && cluster <= 256), "clusters must be in [2, 256], got ", cluster);
  PITH_CHECK(cluster == 0 || quantize.empty(),
             "clustering keeps float weights (stored as a palette); it does not combine with quantization");
  PITH_CHECK(quantize != "int8" || have_calibration, "int8 needs calibration samples");
  PITH_CHECK(low_rank >= 0 && low_rank <= 1, "low-rank energy must be in (0, 1], got ", low_rank);
  if (prune) {
    PITH_CHECK(pruning.pattern == "unstructured" || pruning.pattern == "2:4", "unknown prune pattern '",
               pruning.pattern, "'");
    PITH_CHECK(pruning.sparsity >= 0 && pruning.sparsity < 1, "sparsity must be in [0, 1), got ", pruning.sparsity);
  }
}

RecipeResult apply_recipe(const Graph& optimized, const Recipe& recipe, const Tensor& calibration,
                          const PredictOptions& run) {
  recipe.validate(calibration.defined());
  RecipeResult result;
  Graph g = optimized;
  nlohmann::ordered_json techniques = nlohmann::ordered_json::array();
  if (recipe.low_rank > 0) {
    LowRankOptions options;
    options.energy = recipe.low_rank;
    const LowRankReport r = factorize_low_rank(g, options);
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (auto& l : r.layers)
      layers.push_back(
          {{"node", l.node}, {"shape", {l.outputs, l.inputs}}, {"rank", l.rank}, {"energy", l.energy_kept}});
    techniques.push_back({{"name", "low_rank"},
                          {"energy", recipe.low_rank},
                          {"factorized", layers},
                          {"kept_whole", r.kept.size()},
                          {"weights_before", r.weights_before},
                          {"weights_after", r.weights_after}});
  }
  if (recipe.prune) {
    PruneOptions options = recipe.pruning;
    options.calibration = calibration;
    const PruneReport r = prune_weights(g, options);
    techniques.push_back({{"name", "prune"},
                          {"pattern", options.pattern},
                          {"allocation", options.allocation},
                          {"requested", options.sparsity},
                          {"sparsity", r.weights ? double(r.zeros) / double(r.weights) : 0.0},
                          {"weights", r.weights},
                          {"data_aware", calibration.defined()}});
  }
  if (recipe.cluster) {
    ClusterOptions options;
    options.clusters = recipe.cluster;
    const PruneReport r = cluster_weights(g, options);
    int64_t most = 0;
    for (auto& l : r.layers) most = std::max(most, l.distinct);
    techniques.push_back(
        {{"name", "cluster"}, {"clusters", recipe.cluster}, {"max_distinct", most}, {"layers", r.layers.size()}});
  }
  if (recipe.quantize == "fp16") {
    techniques.push_back({{"name", "fp16"}, {"weights", round_weights_to_fp16(g)}});
  }
  if (recipe.quantize == "int4") {
    Int4Options options;
    options.block = recipe.block;
    options.calibration = calibration;
    const Int4Report r = quantize_int4_weights(g, options);
    int64_t gptq = 0;
    for (auto& l : r.layers) gptq += l.gptq;
    techniques.push_back({{"name", "int4"},
                          {"block", recipe.block},
                          {"method", calibration.defined() ? "gptq" : "round-to-nearest"},
                          {"layers", r.layers.size()},
                          {"gptq_layers", gptq},
                          {"weights", r.weights}});
  }
  if (recipe.quantize == "dynamic-int8") {
    const DynamicInt8Report r = quantize_int8_dynamic(g);
    nlohmann::ordered_json kept = nlohmann::ordered_json::array();
    for (auto& [node, why] : r.skipped) kept.push_back({{"node", node}, {"reason", why}});
    techniques.push_back({{"name", "dynamic-int8"}, {"quantized_layers", r.layers.size()}, {"kept_float", kept}});
    result.qdq = g;
  }
  if (recipe.quantize == "int8") {
    Int8Options options;
    options.method = recipe.method;
    options.percentile = recipe.percentile;
    options.keep_float = recipe.keep_float;
    options.weight_max = recipe.weight_bits == 8 ? 127 : 64;
    options.run = run;
    result.int8 = quantize_int8_static(g, calibration, options);
    nlohmann::ordered_json kept = nlohmann::ordered_json::array();
    for (auto& [node, why] : result.int8.skipped) kept.push_back({{"node", node}, {"reason", why}});
    techniques.push_back({{"name", "int8"},
                          {"calibration", calibration_method_name(recipe.method)},
                          {"calibration_samples", calibration.dim(0)},
                          {"weight_bits", recipe.weight_bits},
                          {"quantized_layers", result.int8.layers.size()},
                          {"quantized_activations", result.int8.quantized_activations},
                          {"kept_float", kept}});
    result.qdq = g;
  }
  optimize(g);  // QDQ lowered to int8 nodes: no dequantize chains left to rewrite at load
  result.lowered = std::move(g);
  result.techniques = std::move(techniques);
  return result;
}

}  // namespace pith
