// pith deploy MODEL --target PROFILE [--max-size-mb S] [--max-memory-mb M] [--max-latency-ms L]
//             [--max-energy-mj E] [--min-accuracy A | --max-accuracy-drop D] [--optimize speed|size|balanced]
//             --data X.npy [--labels Y.npy] [--calibration C.npy] -o DIR
// Searches compressions of MODEL for the device PROFILE under the budgets (deploy/planner.h),
// writes the best that meets them all to DIR/model.pith, and DIR/report.json and
// DIR/report.html with every candidate. Exit 3 when nothing fits (the reports are written
// and name each broken budget and the closest candidate). Progress goes to stderr.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "artifact/artifact.h"
#include "cli/commands.h"
#include "core/file_io.h"
#include "core/npy.h"
#include "deploy/planner.h"
#include "deploy/report.h"

#ifndef PITH_VERSION
#define PITH_VERSION "unknown"
#endif

namespace pith::cli {

namespace {

std::optional<double> positive_option(const Args& args, const std::string& name) {
  const std::string v = args.get(name);
  if (v.empty()) return std::nullopt;
  const double d = parse_number(v).value_or(-1);
  PITH_CHECK(d > 0 && std::isfinite(d), "--", name, " must be a positive number, got '", v, "'");
  return d;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Removes the candidates' folder however the command ends.
struct RemoveOnExit {
  std::filesystem::path path;
  ~RemoveOnExit() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

int cmd_deploy(const std::vector<std::string>& argv) {
  const char* usage =
      "usage: pith deploy MODEL --target PROFILE [--max-size-mb S] [--max-memory-mb M] [--max-latency-ms L]\n"
      "       [--max-energy-mj E] [--min-accuracy A] [--max-accuracy-drop D] [--optimize speed|size|balanced]\n"
      "       --data X.npy [--labels Y.npy] [--calibration C.npy] -o DIR\n"
      "       (sizes in MiB; accuracy in percent: top-1 with --labels, agreement with fp32 without)";
  Args args =
      Args::parse(argv,
                  {"output", "target", "max-size-mb", "max-memory-mb", "max-latency-ms", "max-energy-mj",
                   "min-accuracy", "max-accuracy-drop", "optimize", "data", "labels", "calibration", "iterations"},
                  {});
  PITH_CHECK(args.positional.size() == 1, usage);
  const std::string model_path = args.positional[0], out_dir = args.get("output");
  PITH_CHECK(!out_dir.empty(), "-o DIR is required (where model.pith and the reports go)\n", usage);
  PITH_CHECK(!std::filesystem::exists(out_dir) || std::filesystem::is_directory(out_dir), out_dir,
             ": exists and is not a directory");
  PITH_CHECK(!args.get("target").empty(), "--target PROFILE is required (see pith profiles)\n", usage);
  PITH_CHECK(!args.get("data").empty(), "--data X.npy is required: candidates are scored on it\n", usage);

  deploy::DeployOptions o;
  o.target = targets::find_profile(args.get("target"));
  const double mib = 1024.0 * 1024.0;
  if (auto v = positive_option(args, "max-size-mb")) o.budgets.max_size_bytes = *v * mib;
  if (auto v = positive_option(args, "max-memory-mb")) o.budgets.max_memory_bytes = *v * mib;
  o.budgets.max_latency_ms = positive_option(args, "max-latency-ms");
  o.budgets.max_energy_mj = positive_option(args, "max-energy-mj");
  o.budgets.min_accuracy = positive_option(args, "min-accuracy");
  PITH_CHECK(!o.budgets.min_accuracy || *o.budgets.min_accuracy <= 100,
             "--min-accuracy is a percentage in (0, 100], got ", *o.budgets.min_accuracy);
  o.budgets.max_accuracy_drop = positive_option(args, "max-accuracy-drop");
  o.objective = deploy::parse_objective(args.get("optimize", "balanced"));
  o.latency_iterations = int(args.get_int("iterations", 50, 1));
  o.data = read_npy(args.get("data"));
  if (!args.get("labels").empty()) o.labels = read_npy(args.get("labels"));
  if (!args.get("calibration").empty()) o.calibration = read_npy(args.get("calibration"));

  auto original = load_model(model_path, /*optimize=*/true);
  std::filesystem::create_directories(out_dir);
  RemoveOnExit work{std::filesystem::path(out_dir) / (".candidates-" + std::to_string(getpid()))};
  std::filesystem::create_directories(work.path);
  o.work_dir = work.path.string();
  const std::string created = utc_now();
  o.metadata = {{"name", std::filesystem::path(model_path).stem().string()},
                {"source", std::filesystem::path(model_path).filename().string()},
                {"source_bytes", std::to_string(std::filesystem::file_size(model_path))},
                {"pith_version", PITH_VERSION},
                {"created", created},
                {"target", o.target.name}};
  o.progress = [](const std::string& line) { std::cerr << "deploy: " << line << "\n"; };
  std::cerr << "deploy: " << model_path << " for " << o.target.name << " (" << o.target.description << "), optimizing "
            << deploy::objective_name(o.objective) << "\n";
  deploy::Plan plan = deploy::plan_deployment(*original, o);

  const std::string model_out = (std::filesystem::path(out_dir) / "model.pith").string();
  if (plan.chosen >= 0) {
    // The chosen artifact again, now with what was measured in its metadata.
    deploy::Candidate& c = plan.candidates[size_t(plan.chosen)];
    artifact::Artifact a = artifact::read_file(c.artifact_path);
    artifact::WriteOptions wo;
    wo.zstd = c.recipe.entropy;
    wo.short_names = true;
    wo.metadata = a.metadata;
    wo.metadata["metrics"] = nlohmann::ordered_json{
        {"host_latency_ms", c.host_latency_ms},
        {"target_latency_ms", c.target_latency_ms},
        {"energy_mj", c.energy_mj},
        {"memory_bytes", c.memory_bytes},
        {plan.accuracy_is_agreement ? "agreement" : "accuracy", c.accuracy},
        {"samples",
         o.data.dim(0)}}.dump();
    artifact::write_file(a.graph, model_out, wo);
    // The metrics must not push it over the size budget it was chosen under: then ship the
    // candidate exactly as measured.
    const double limit = std::min<double>(o.budgets.max_size_bytes.value_or(1e300), double(o.target.storage_bytes));
    if (double(std::filesystem::file_size(model_out)) > limit) {
      std::filesystem::copy_file(c.artifact_path, model_out + ".tmp",
                                 std::filesystem::copy_options::overwrite_existing);
      std::filesystem::rename(model_out + ".tmp", model_out);  // never a half-copied model.pith
      std::cerr << "deploy: the metrics are left out of the metadata to stay within the size budget\n";
    }
  }
  // The candidates are compared as measured; the file written also carries the metrics.
  const uint64_t output_bytes = plan.chosen >= 0 ? std::filesystem::file_size(model_out) : 0;
  deploy::ReportContext rc{model_path, model_out, std::filesystem::file_size(model_path), PITH_VERSION, output_bytes};
  const nlohmann::ordered_json report = deploy::report_json(plan, o, rc);
  const std::string json_path = (std::filesystem::path(out_dir) / "report.json").string();
  const std::string html_path = (std::filesystem::path(out_dir) / "report.html").string();
  write_file_atomically(json_path, {report.dump(2), "\n"});
  write_file_atomically(html_path, {deploy::report_html(report)});

  if (plan.chosen < 0) {
    std::error_code ec;
    std::filesystem::remove(model_out, ec);  // a model.pith from an earlier run would look like this one's
    std::cerr << "pith deploy: nothing fits " << o.target.name << " within the budgets (" << plan.candidates.size()
              << " candidates; see " << html_path << ")\n";
    if (plan.closest >= 0) {
      const deploy::Candidate& c = plan.candidates[size_t(plan.closest)];
      std::cerr << "pith deploy: closest: " << c.label << ", which breaks:\n";
      for (auto& v : c.violations) std::cerr << "  " << v << "\n";
    }
    std::cout << nlohmann::ordered_json{{"result", "nothing fits"},
                                        {"closest", plan.closest >= 0 ? nlohmann::ordered_json(
                                                                            plan.candidates[size_t(plan.closest)].label)
                                                                      : nlohmann::ordered_json(nullptr)},
                                        {"report", json_path}}
                     .dump()
              << "\n";
    return 3;
  }
  const deploy::Candidate& c = plan.candidates[size_t(plan.chosen)];
  std::cerr << "deploy: chose " << c.label << "; wrote " << model_out << ", " << json_path << ", " << html_path << "\n";
  std::cout << nlohmann::ordered_json{{"result", "fits"},
                                      {"chosen", c.label},
                                      {"artifact", model_out},
                                      {"artifact_bytes", output_bytes},
                                      {"report", json_path}}
                   .dump()
            << "\n";
  return 0;
}

}  // namespace pith::cli
