#include "deploy/planner.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "artifact/artifact.h"
#include "compress/evaluate.h"
#include "deploy/candidates.h"
#include "runtime/session.h"
#include "targets/host_probe.h"

namespace pith::deploy {

Objective parse_objective(const std::string& name) {
  if (name == "speed") return Objective::Speed;
  if (name == "size") return Objective::Size;
  if (name == "balanced") return Objective::Balanced;
  fail("--optimize must be speed, size or balanced, got '", name, "'");
}

const char* objective_name(Objective o) {
  return o == Objective::Speed ? "speed" : o == Objective::Size ? "size" : "balanced";
}

namespace {

using Clock = std::chrono::steady_clock;

size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;  // small-block arenas + mmapped large blocks
}

std::string human_bytes(double b) {
  char buf[32];
  if (b < 1024)
    std::snprintf(buf, sizeof buf, "%.0f B", b);
  else if (b < 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024);
  else
    std::snprintf(buf, sizeof buf, "%.2f MiB", b / 1024 / 1024);
  return buf;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// The first `n` samples of data (a view; data outlives it).
Tensor first_samples(const Tensor& data, int64_t n) {
  n = std::min(n, data.dim(0));
  Shape shape = data.shape();
  shape[0] = n;
  return Tensor::view(data.dtype(), shape, const_cast<void*>(data.raw()));
}

targets::Throughput target_throughput(const targets::DeviceProfile& p) {
  targets::Throughput t;
  t.fp32_gflops = p.fp32_gflops_per_core;
  t.int8_gops = p.int8_gops_per_core;
  t.bandwidth_gbs = p.memory_bandwidth_gbs;
  t.weights_on_chip = p.is_mcu();
  return t;
}

struct Context {
  Context(const Graph& g, const DeployOptions& o) : optimized(g), options(o) {}
  const Graph& optimized;
  const DeployOptions& options;
  Tensor calibration, reference_scores;
  bool labels = false;
  targets::Throughput host, target;
  double host_mhz = 0;
  // Pruned graphs by pruning settings: data-aware pruning is the slow step, and several
  // candidates share one (then quantized or clustered differently).
  mutable std::map<std::string, RecipeResult> pruned;
};

RecipeResult build(const Recipe& recipe, const Context& ctx) {
  if (!recipe.prune) return apply_recipe(ctx.optimized, recipe, ctx.calibration);
  Recipe prune_only;
  prune_only.prune = true;
  prune_only.pruning = recipe.pruning;
  auto it = ctx.pruned.find(prune_only.label());
  if (it == ctx.pruned.end())
    it = ctx.pruned.emplace(prune_only.label(), apply_recipe(ctx.optimized, prune_only, ctx.calibration)).first;
  Recipe rest = recipe;
  rest.prune = false;
  RecipeResult r = apply_recipe(it->second.lowered, rest, ctx.calibration);
  nlohmann::ordered_json techniques = it->second.techniques;
  for (auto& t : r.techniques) techniques.push_back(t);
  r.techniques = std::move(techniques);
  return r;
}

// Builds, writes, loads, runs and scores one candidate.
void measure(Candidate& c, size_t index, const Context& ctx) {
  const DeployOptions& o = ctx.options;
  RecipeResult r = build(c.recipe, ctx);
  c.techniques = r.techniques;
  artifact::WriteOptions wo;
  wo.zstd = c.recipe.entropy;
  wo.short_names = true;  // on a device names cost bytes and tell nobody anything
  if (wo.zstd) c.techniques.push_back({{"name", "entropy"}, {"coder", "zstd"}, {"level", wo.zstd_level}});
  wo.metadata = o.metadata;
  wo.metadata["techniques"] = c.techniques.dump();
  c.artifact_path = (std::filesystem::path(o.work_dir) / ("candidate-" + std::to_string(index) + ".pith")).string();
  const artifact::WriteStats ws = artifact::write_file(r.lowered, c.artifact_path, wo);
  c.artifact_bytes = std::filesystem::file_size(c.artifact_path);
  c.stored_tensor_bytes = ws.stored_tensor_bytes;
  c.parameters = ws.parameters;
  r = RecipeResult{};  // only what the artifact holds from here on

  // Load it as a device would and measure what it holds. The heap is sampled before the
  // artifact is read and after the first run (weights decoded or packed, arena planned).
  const size_t heap_before = heap_in_use();
  auto graph = std::make_shared<Graph>(artifact::read_file(c.artifact_path).graph);
  Session session(graph, SessionOptions{});
  const ValueInfo& in = graph->inputs.at(0);
  Tensor sample = first_samples(o.data, 1);
  const size_t input_bytes = sample.nbytes();
  session.run({{in.name, sample}});
  const size_t heap_after = heap_in_use();
  const size_t heap_held = heap_after > heap_before ? heap_after - heap_before : 0;
  c.arena_bytes = session.last_run_stats().arena_bytes;
  c.weight_bytes = graph->weight_bytes();
  if (o.target.is_mcu()) {
    // Bare metal: weights stay in flash where the artifact stores them as they are run
    // (fp32, int8); coded forms must be decoded into RAM first: a zstd segment whole, then
    // palettes, 4-bit blocks and halves to float32.
    const uint64_t unzstd = c.recipe.entropy ? ws.tensor_bytes : 0;
    c.memory_bytes = c.arena_bytes + input_bytes + unzstd + ws.decoded_tensor_bytes;
    c.memory_measured = false;
  } else if (heap_held >= c.arena_bytes && heap_held > 0) {
    c.memory_bytes = heap_held + c.artifact_bytes;  // + the mapped file, all of it touched
    c.memory_measured = true;
  } else {  // the heap is not glibc's (a sanitizer's allocator): count what the plan holds
    c.memory_bytes = c.arena_bytes + c.weight_bytes + c.artifact_bytes;
    c.memory_measured = false;
  }

  for (int i = 0; i < 3; ++i) session.run({{in.name, sample}});
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, o.latency_iterations); ++i) {
    const auto t0 = Clock::now();
    session.run({{in.name, sample}});
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  c.host_latency_ms = ms[ms.size() / 2];

  const Tensor scores = predict(graph, o.data);
  c.accuracy = 100.0 * (ctx.labels ? top1_accuracy(scores, o.labels) : top1_agreement(scores, ctx.reference_scores));
  c.sqnr_db = sqnr_db(scores, ctx.reference_scores);

  // Target estimate: the target's roofline plus the host's time beyond its own roofline
  // (dispatch, small shapes, packing), scaled by the clock ratio.
  const targets::CostEstimate on_host = targets::estimate_cost(*graph, ctx.host);
  const targets::CostEstimate on_target = targets::estimate_cost(*graph, ctx.target);
  c.host_roofline_ms = on_host.latency_ms;
  const double overhead_ms = std::max(0.0, c.host_latency_ms - on_host.latency_ms);
  const double clock_ratio = ctx.host_mhz > 0 ? ctx.host_mhz / o.target.clock_mhz : 1.0;
  c.target_latency_ms = on_target.latency_ms + overhead_ms * clock_ratio;
  c.energy_mj = on_target.energy_mj;
}

void check_budgets(Candidate& c, const DeployOptions& o, double floor) {
  const targets::DeviceProfile& p = o.target;
  auto over = [&](double value, double limit, const std::string& what, const std::string& text) {
    if (value <= limit) return;
    c.violations.push_back(what + " " + text);
    c.excess += value / limit - 1;
  };
  const double storage = std::min<double>(o.budgets.max_size_bytes.value_or(1e300), double(p.storage_bytes));
  const bool size_is_device = !o.budgets.max_size_bytes || double(p.storage_bytes) < *o.budgets.max_size_bytes;
  over(double(c.artifact_bytes), storage, "size",
       human_bytes(double(c.artifact_bytes)) + " > " + human_bytes(storage) +
           (size_is_device ? " (" + p.name + " storage)" : " (--max-size-mb)"));
  const double ram = std::min<double>(o.budgets.max_memory_bytes.value_or(1e300), double(p.ram_bytes));
  const bool ram_is_device = !o.budgets.max_memory_bytes || double(p.ram_bytes) < *o.budgets.max_memory_bytes;
  over(double(c.memory_bytes), ram, "memory",
       human_bytes(double(c.memory_bytes)) + " > " + human_bytes(ram) +
           (ram_is_device ? " (" + p.name + " RAM)" : " (--max-memory-mb)"));
  if (o.budgets.max_latency_ms)
    over(c.target_latency_ms, *o.budgets.max_latency_ms, "latency",
         fmt("%.3g ms", c.target_latency_ms) + " (estimated on " + p.name + ") > " +
             fmt("%.3g ms", *o.budgets.max_latency_ms) + " (--max-latency-ms)");
  if (o.budgets.max_energy_mj)
    over(c.energy_mj, *o.budgets.max_energy_mj, "energy",
         fmt("%.3g mJ", c.energy_mj) + " (estimated) > " + fmt("%.3g mJ", *o.budgets.max_energy_mj) +
             " (--max-energy-mj)");
  if (floor > 0 && c.accuracy < floor) {
    c.violations.push_back("accuracy " + fmt("%.2f %%", c.accuracy) + " < floor " + fmt("%.2f %%", floor));
    c.excess += (floor - c.accuracy) / 10.0;  // 10 points below counts like twice the size
  }
}

// Lower is better.
double objective_score(const Candidate& c, const Candidate& base, Objective o) {
  const double size = double(c.artifact_bytes) / double(std::max<uint64_t>(base.artifact_bytes, 1));
  const double latency = c.target_latency_ms / std::max(base.target_latency_ms, 1e-12);
  if (o == Objective::Size) return size;
  if (o == Objective::Speed) return latency;
  return std::sqrt(size * latency);
}

}  // namespace

Plan plan_deployment(const Graph& optimized, const DeployOptions& o) {
  const auto t0 = Clock::now();
  PITH_CHECK(optimized.inputs.size() == 1, "deploy needs a model with one input; this one has ",
             optimized.inputs.size());
  PITH_CHECK(o.data.defined() && o.data.rank() >= 1 && o.data.dim(0) > 0, "deploy needs --data samples");
  Plan plan;
  plan.accuracy_is_agreement = !o.labels.defined();
  auto progress = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };

  Context ctx(optimized, o);
  ctx.calibration = o.calibration.defined() ? o.calibration : first_samples(o.data, 512);
  ctx.labels = o.labels.defined();
  progress("measuring the host (kernel throughput, memory bandwidth)");
  ctx.host = targets::measured_host_throughput();
  ctx.host_mhz = targets::host_clock_mhz();
  ctx.target = target_throughput(o.target);
  plan.host = ctx.host;
  try {
    ctx.reference_scores = predict(std::make_shared<Graph>(optimized), o.data);
  } catch (const Error& e) {
    fail("the data does not fit the model: ", e.what());
  }

  const std::vector<CandidateSpec> specs = first_round();
  auto evaluate = [&](const CandidateSpec& spec) -> Candidate& {
    Candidate c;
    c.recipe = spec.recipe;
    c.label = spec.recipe.label();
    c.why = spec.why;
    const size_t index = plan.candidates.size();
    const auto started = Clock::now();
    try {
      measure(c, index, ctx);
    } catch (const Error& e) {
      c.error = e.what();
    }
    if (index == 0) {
      PITH_CHECK(c.error.empty(), "the uncompressed model does not run: ", c.error);
      double floor = o.budgets.min_accuracy.value_or(0);
      if (o.budgets.max_accuracy_drop) floor = std::max(floor, c.accuracy - *o.budgets.max_accuracy_drop);
      plan.accuracy_floor = floor;
    }
    if (c.error.empty()) check_budgets(c, o, plan.accuracy_floor);
    std::string line = "[" + std::to_string(index + 1) + "] " + c.label + ": ";
    if (!c.error.empty()) {
      line += "failed: " + c.error;
    } else {
      line += human_bytes(double(c.artifact_bytes)) + ", " + human_bytes(double(c.memory_bytes)) + " RAM, " +
              fmt("%.3g ms", c.host_latency_ms) + " host, ~" + fmt("%.3g ms", c.target_latency_ms) + " on " +
              o.target.name + ", " + fmt("%.2f %%", c.accuracy) + (c.fits() ? " - fits" : " - rejected: ");
      for (size_t i = 0; i < c.violations.size(); ++i) line += (i ? "; " : "") + c.violations[i];
    }
    progress(line + fmt(" (%.1f s)", std::chrono::duration<double>(Clock::now() - started).count()));
    plan.candidates.push_back(std::move(c));
    return plan.candidates.back();
  };

  int int8_index = -1;
  for (auto& spec : specs) {
    evaluate(spec);
    if (spec.recipe.quantize == "int8" && !spec.recipe.prune && !spec.recipe.entropy)
      int8_index = int(plan.candidates.size()) - 1;
  }

  // Sparsity refinement: within each pruning family (same techniques, sparsity aside), when
  // one sparsity keeps the accuracy but breaks a resource budget and the next one up meets
  // the resources but not the accuracy, the answer may lie between: bisect, twice at most.
  auto family = [](const Recipe& r) {
    Recipe k = r;
    k.pruning.sparsity = 0;
    return k.label();
  };
  auto accuracy_ok = [&](const Candidate& c) { return c.accuracy >= plan.accuracy_floor; };
  auto resources_ok = [&](const Candidate& c) {
    for (auto& v : c.violations)
      if (v.rfind("accuracy", 0) != 0) return false;
    return true;
  };
  for (int round = 0; round < 2; ++round) {
    std::map<std::string, std::vector<size_t>> families;
    for (size_t i = 0; i < plan.candidates.size(); ++i) {
      const Candidate& c = plan.candidates[i];
      if (c.recipe.prune && c.recipe.pruning.pattern == "unstructured" && c.error.empty())
        families[family(c.recipe)].push_back(i);
    }
    std::vector<CandidateSpec> refined;
    for (auto& [key, members] : families) {
      std::sort(members.begin(), members.end(), [&](size_t a, size_t b) {
        return plan.candidates[a].recipe.pruning.sparsity < plan.candidates[b].recipe.pruning.sparsity;
      });
      bool any_fits = false;
      for (size_t m : members) any_fits |= plan.candidates[m].fits();
      for (size_t j = 0; j + 1 < members.size() && !any_fits; ++j) {
        const Candidate &dense = plan.candidates[members[j]], &sparse = plan.candidates[members[j + 1]];
        if (!(accuracy_ok(dense) && !resources_ok(dense) && resources_ok(sparse) && !accuracy_ok(sparse))) continue;
        Recipe mid = dense.recipe;
        mid.pruning.sparsity =
            std::round(50.0 * (dense.recipe.pruning.sparsity + sparse.recipe.pruning.sparsity)) / 100;
        if (mid.pruning.sparsity <= dense.recipe.pruning.sparsity ||
            mid.pruning.sparsity >= sparse.recipe.pruning.sparsity)
          continue;
        refined.push_back({mid, "refined: between " + dense.label + " (too large) and " + sparse.label +
                                    " (below the accuracy floor)"});
      }
    }
    if (refined.empty()) break;
    for (auto& spec : refined) evaluate(spec);
  }

  // Mixed precision: when int8 misses the floor, find the layers int8 hurts most (each
  // one alone in int8, output SQNR against fp32) and keep the worst in float: 1, 2, 4, ...
  // of them, until the floor is met (a few rounds even for a model of many layers).
  if (int8_index >= 0 && plan.accuracy_floor > 0) {
    const Candidate& int8 = plan.candidates[size_t(int8_index)];
    const bool below_floor = int8.error.empty() && int8.accuracy < plan.accuracy_floor;
    if (below_floor) {
      progress("int8 is below the accuracy floor: measuring each layer's sensitivity");
      Graph probe = optimized;
      Int8Report all = quantize_int8_static(probe, ctx.calibration, Int8Options{});
      std::vector<std::string> layers;
      for (auto& l : all.layers) layers.push_back(l.node);
      const Tensor subset = first_samples(o.data, 500);
      const Tensor subset_ref = predict(std::make_shared<Graph>(optimized), subset);
      for (auto& layer : layers) {
        Recipe one;
        one.quantize = "int8";
        for (auto& other : layers)
          if (other != layer) one.keep_float.insert(other);
        RecipeResult r = apply_recipe(optimized, one, ctx.calibration);
        const Tensor s = predict(std::make_shared<Graph>(std::move(r.lowered)), subset);
        plan.sensitivity.push_back({layer, sqnr_db(s, subset_ref)});
      }
      std::vector<std::pair<std::string, double>> order = plan.sensitivity;
      std::sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.second < b.second; });
      Recipe mixed;
      mixed.quantize = "int8";
      for (size_t kept = 1, k = 0; k < order.size(); kept = std::min(order.size(), 2 * kept)) {
        for (; k < kept; ++k) mixed.keep_float.insert(order[k].first);
        const Candidate& c = evaluate({mixed, "int8 with the " + std::to_string(kept) +
                                                  " most sensitive layer(s) in float (lowest SQNR alone in int8)"});
        if (c.error.empty() && c.accuracy >= plan.accuracy_floor) {
          Recipe coded = mixed;
          coded.entropy = true;
          evaluate({coded, "the mixed-precision model above, zstd-coded"});
          break;
        }
      }
    }
  }

  const Candidate& base = plan.candidates[0];
  double best = 1e300, nearest = 1e300;
  for (size_t i = 0; i < plan.candidates.size(); ++i) {
    const Candidate& c = plan.candidates[i];
    if (!c.error.empty()) continue;
    if (c.fits()) {
      const double s = objective_score(c, base, o.objective);
      const bool better = s < best - 1e-12 || (std::abs(s - best) <= 1e-12 && plan.chosen >= 0 &&
                                               c.accuracy > plan.candidates[size_t(plan.chosen)].accuracy);
      if (better) best = s, plan.chosen = int(i);
    } else if (c.excess < nearest) {
      nearest = c.excess;
      plan.closest = int(i);
    }
  }
  plan.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return plan;
}

}  // namespace pith::deploy
