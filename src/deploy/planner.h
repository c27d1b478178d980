// The deploy planner: pith's main job. Given an optimized float graph, a device profile,
// budgets and data, it builds candidate compressions (deploy/candidates.h), and for each
// one writes the real .pith artifact and measures it: exact file size, the memory it
// holds when loaded and run (heap held by the model and its Session, plus the mapped
// file), host latency, the cost model's latency and energy for the target (calibrated by
// the host measurement), and accuracy (labels) or agreement (no labels) on the data.
// Every candidate is checked against every budget (the user's and the device's own RAM
// and storage); the best that meets them all under the objective is the result.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "compress/recipe.h"
#include "ir/graph.h"
#include "targets/cost_model.h"
#include "targets/profile.h"

namespace pith::deploy {

enum class Objective { Speed, Size, Balanced };
Objective parse_objective(const std::string& name);  // speed|size|balanced, else an Error
const char* objective_name(Objective o);

struct Budgets {
  std::optional<double> max_size_bytes, max_memory_bytes, max_latency_ms, max_energy_mj;
  std::optional<double> min_accuracy;       // percent: top-1 with labels, agreement without
  std::optional<double> max_accuracy_drop;  // points below the fp32 model
};

struct DeployOptions {
  targets::DeviceProfile target;
  Budgets budgets;
  Objective objective = Objective::Balanced;
  Tensor data, labels;                          // labels optional
  Tensor calibration;                           // int8 and data-aware pruning; empty: the first 512 samples of data
  std::string work_dir;                         // candidate artifacts are written here (then removed)
  std::map<std::string, std::string> metadata;  // written into every artifact
  int latency_iterations = 50;
  std::function<void(const std::string&)> progress;  // one line per step
};

struct Candidate {
  Recipe recipe;
  std::string label, why;  // why: what the candidate is for (e.g. "the most sensitive layers kept in float")
  std::string error;       // non-empty when building or measuring it failed
  nlohmann::ordered_json techniques;
  // measured
  uint64_t artifact_bytes = 0, stored_tensor_bytes = 0;
  int64_t parameters = 0;
  uint64_t memory_bytes = 0;     // peak RAM as the target would hold it (see DESIGN: deploy)
  bool memory_measured = false;  // false: from the plan (arena + weights), e.g. under a sanitizer
  uint64_t arena_bytes = 0, weight_bytes = 0;
  double host_latency_ms = 0;
  double accuracy = 0;  // percent (top-1 with labels, else agreement with fp32)
  double sqnr_db = 0;
  // estimated
  double host_roofline_ms = 0, target_latency_ms = 0, energy_mj = 0;
  // decided
  std::vector<std::string> violations;  // one line per budget not met
  double excess = 0;                    // how far outside the budgets (0 when it fits)
  bool fits() const { return error.empty() && violations.empty(); }
  std::string artifact_path;
};

struct Plan {
  std::vector<Candidate> candidates;  // in the order they were evaluated; [0] is fp32
  int chosen = -1;                    // index into candidates, -1 when none fits
  int closest = -1;                   // when none fits: the one nearest to fitting
  bool accuracy_is_agreement = false;
  double accuracy_floor = 0;  // percent, the floor applied (0: none)
  targets::Throughput host;
  std::vector<std::pair<std::string, double>> sensitivity;  // int8, per layer: output SQNR dB with it alone in int8
  double seconds = 0;
};

// Runs the search. Candidate artifacts stay in options.work_dir (their paths in the Plan);
// the caller keeps the chosen one and removes the rest.
Plan plan_deployment(const Graph& optimized, const DeployOptions& options);

}  // namespace pith::deploy
