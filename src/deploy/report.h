// The deploy report: report.json (every candidate, its measured and estimated numbers,
// each budget it broke) and report.html, made from the same JSON: a self-contained page
// (inline SVG charts of size and latency against accuracy, the candidate table), readable
// offline.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "deploy/planner.h"

namespace pith::deploy {

struct ReportContext {
  std::string model, output;  // paths
  uint64_t model_bytes = 0;   // the input model file
  std::string pith_version;
  uint64_t output_bytes = 0;  // the chosen artifact as written (its metadata adds the measured metrics)
};

nlohmann::ordered_json report_json(const Plan& plan, const DeployOptions& options, const ReportContext& context);
std::string report_html(const nlohmann::ordered_json& report);

}  // namespace pith::deploy
