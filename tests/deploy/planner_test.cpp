// The deploy planner on a small CNN: every candidate is a real artifact measured as
// written; the choice meets every budget and is the best under the objective; an
// impossible budget chooses nothing and says what broke; int8 below the accuracy floor
// brings in the sensitivity analysis and mixed precision.
#include <gtest/gtest.h>

#include <filesystem>

#include "deploy/planner.h"
#include "deploy/report.h"
#include "test_util/small_cnn.h"

namespace pith::deploy {
namespace {

using namespace test_util;
namespace fs = std::filesystem;

targets::DeviceProfile small_device() {
  return targets::parse_profile(R"({"name": "test-mcu", "description": "a test device", "kind": "mcu",
    "ram": "256 KiB", "storage": "1 MiB", "cores": 1, "clock_mhz": 200, "isa": ["dsp"],
    "fp32_gflops_per_core": 0.1, "int8_gops_per_core": 0.4, "memory_bandwidth_gbs": 0.5, "power_w": 0.2})",
                                "test-mcu.json");
}

struct Fixture {
  Graph model = small_cnn();
  DeployOptions options;
  fs::path dir;
  explicit Fixture(const std::string& name) {
    dir = fs::temp_directory_path() / ("pith_planner_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    options.target = small_device();
    options.data = images(64, 2);
    options.calibration = images(64, 1);
    options.work_dir = dir.string();
    options.latency_iterations = 3;
  }
  ~Fixture() { fs::remove_all(dir); }
};

TEST(Planner, EveryCandidateIsMeasuredFromItsArtifactAndTheChoiceFits) {
  Fixture f("fits");
  Plan first = plan_deployment(f.model, f.options);
  ASSERT_GE(first.candidates.size(), 8u);
  const Candidate& fp32 = first.candidates[0];
  EXPECT_EQ(fp32.label, "fp32");
  EXPECT_DOUBLE_EQ(fp32.accuracy, 100.0);  // agreement with itself
  for (auto& c : first.candidates) {
    SCOPED_TRACE(c.label);
    ASSERT_TRUE(c.error.empty()) << c.error;
    EXPECT_EQ(c.artifact_bytes, fs::file_size(c.artifact_path));
    EXPECT_GT(c.memory_bytes, c.arena_bytes);
    EXPECT_GT(c.target_latency_ms, 0);
    EXPECT_GT(c.energy_mj, 0);
    EXPECT_GE(c.accuracy, 0);
    EXPECT_LE(c.accuracy, 100);
  }
  EXPECT_EQ(first.chosen >= 0, true);

  // Half the fp32 size, optimizing size, no more than 10 points of agreement lost.
  f.options.budgets.max_size_bytes = double(fp32.artifact_bytes) / 2;
  f.options.budgets.max_accuracy_drop = 10;
  f.options.objective = Objective::Size;
  Plan plan = plan_deployment(f.model, f.options);
  ASSERT_GE(plan.chosen, 0);
  const Candidate& chosen = plan.candidates[size_t(plan.chosen)];
  EXPECT_LE(double(chosen.artifact_bytes), *f.options.budgets.max_size_bytes);
  EXPECT_GE(chosen.accuracy, 90.0 - 1e-9);
  EXPECT_DOUBLE_EQ(plan.accuracy_floor, 90.0);
  for (auto& c : plan.candidates) {
    if (c.fits()) {
      EXPECT_GE(c.artifact_bytes, chosen.artifact_bytes) << c.label << " is smaller and fits";
    }
    if (double(c.artifact_bytes) > *f.options.budgets.max_size_bytes) {
      ASSERT_FALSE(c.violations.empty()) << c.label;
      EXPECT_NE(c.violations[0].find("(--max-size-mb)"), std::string::npos) << c.violations[0];
    }
  }
  const nlohmann::ordered_json report = report_json(plan, f.options, {"small.onnx", "out/model.pith", 10000, "test"});
  EXPECT_EQ(report["candidates"].size(), plan.candidates.size());
  EXPECT_EQ(report["chosen"].get<int>(), plan.chosen);
  EXPECT_EQ(report["candidates"][size_t(plan.chosen)]["status"], "chosen");
  const std::string html = report_html(report);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Fits: candidate #" + std::to_string(plan.chosen)), std::string::npos);
}

TEST(Planner, AnImpossibleBudgetChoosesNothingAndNamesTheClosest) {
  Fixture f("impossible");
  f.options.budgets.max_size_bytes = 100;
  f.options.budgets.max_latency_ms = 1e-6;
  Plan plan = plan_deployment(f.model, f.options);
  EXPECT_EQ(plan.chosen, -1);
  ASSERT_GE(plan.closest, 0);
  for (auto& c : plan.candidates) {
    ASSERT_GE(c.violations.size(), 2u) << c.label;
    EXPECT_EQ(c.violations[0].rfind("size ", 0), 0u) << c.violations[0];
    EXPECT_EQ(c.violations[1].rfind("latency ", 0), 0u) << c.violations[1];
    EXPECT_GE(c.excess, plan.candidates[size_t(plan.closest)].excess);
  }
  const nlohmann::ordered_json report = report_json(plan, f.options, {"small.onnx", "out/model.pith", 10000, "test"});
  EXPECT_EQ(report["result"], "nothing fits");
  EXPECT_TRUE(report["output"].is_null());
  EXPECT_NE(report_html(report).find("Nothing fits"), std::string::npos);
}

TEST(Planner, Int8BelowTheFloorBringsInMixedPrecision) {
  Fixture f("mixed");
  f.options.budgets.min_accuracy = 100;  // only a prediction-for-prediction match will do
  // Calibration on dim images: activation ranges too narrow, so int8 clips and changes predictions.
  for (int64_t i = 0; i < f.options.calibration.numel(); ++i) f.options.calibration.data<float>()[i] *= 0.05f;
  Plan plan = plan_deployment(f.model, f.options);
  const Candidate* int8 = nullptr;
  for (auto& c : plan.candidates)
    if (c.label == "int8") int8 = &c;
  ASSERT_NE(int8, nullptr);
  ASSERT_LT(int8->accuracy, 100.0) << "the fixture needs int8 to change some prediction";
  ASSERT_EQ(plan.sensitivity.size(), 3u);  // conv, fc1, fc2
  bool mixed = false;
  for (auto& c : plan.candidates) mixed |= c.label.find("float)") != std::string::npos && c.fits();
  EXPECT_TRUE(mixed) << "a mixed-precision candidate should meet the floor";
}

TEST(Planner, ObjectivesAreParsed) {
  EXPECT_EQ(parse_objective("speed"), Objective::Speed);
  EXPECT_EQ(parse_objective("size"), Objective::Size);
  EXPECT_EQ(parse_objective("balanced"), Objective::Balanced);
  EXPECT_THROW(parse_objective("cheap"), Error);
}

}  // namespace
}  // namespace pith::deploy
