// optimize() on every model of the zoo (build/zoo, written by tools/export_zoo.py; the
// test is skipped when the folder is missing, or set PITH_ZOO_DIR): outputs of the
// optimized graph must match the original's within 1e-4 of the output's largest
// magnitude, and the node counts before/after are printed. BatchNormalization and the
// activations that follow a Conv must be gone.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "core/npy.h"
#include "onnx/import.h"
#include "passes/passes.h"
#include "runtime/session.h"

namespace pith {
namespace {

namespace fs = std::filesystem;

fs::path zoo_dir() {
  if (const char* env = std::getenv("PITH_ZOO_DIR")) return env;
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "build" / "zoo";
}

std::map<std::string, int> histogram(const Graph& g) {
  std::map<std::string, int> h;
  for (auto& n : g.nodes) h[(n.domain.empty() ? "" : n.domain + ".") + n.op_type]++;
  return h;
}

std::string summary(const std::map<std::string, int>& h) {
  std::string s;
  for (auto& [op, n] : h) s += (s.empty() ? "" : " ") + op + ":" + std::to_string(n);
  return s;
}

TEST(OptimizeZoo, OutputsUnchangedOnEveryModel) {
  const fs::path dir = zoo_dir();
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no model zoo at " << dir;
  std::vector<fs::path> models;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".onnx" && fs::exists(dir / (e.path().stem().string() + "_input.npy")))
      models.push_back(e.path());
  std::sort(models.begin(), models.end());
  if (models.empty()) GTEST_SKIP() << "no models in " << dir;
  for (auto& path : models) {
    const std::string stem = path.stem().string();
    SCOPED_TRACE(stem);
    auto t0 = std::chrono::steady_clock::now();
    Graph original = onnx_import::import_file(path.string());
    Graph opt = original;
    optimize(opt);
    auto t1 = std::chrono::steady_clock::now();
    Tensor x = read_npy((dir / (stem + "_input.npy")).string());
    std::map<std::string, Tensor> inputs{{original.inputs.at(0).name, x}};
    auto want = Session(std::make_shared<Graph>(original)).run(inputs);
    auto got = Session(std::make_shared<Graph>(opt)).run(inputs);
    auto t2 = std::chrono::steady_clock::now();
    ASSERT_EQ(want.size(), got.size());
    double worst = 0;
    for (size_t o = 0; o < want.size(); ++o) {
      ASSERT_EQ(want[o].shape(), got[o].shape());
      double max_ref = 0, max_err = 0;
      for (int64_t i = 0; i < want[o].numel(); ++i) {
        max_ref = std::max(max_ref, std::fabs(want[o].as_double(i)));
        double e = std::fabs(want[o].as_double(i) - got[o].as_double(i));
        max_err = std::max(max_err, std::isnan(e) ? INFINITY : e);
      }
      const double rel = max_err / std::max(max_ref, 1e-12);
      worst = std::max(worst, rel);
      EXPECT_LE(rel, 1e-4) << "output " << o << ": max error " << max_err << " of max |output| " << max_ref;
    }
    auto before = histogram(original), after = histogram(opt);
    EXPECT_EQ(after.count("BatchNormalization"), 0u);
    std::cout << "[ zoo ] " << stem << ": " << original.nodes.size() << " -> " << opt.nodes.size()
              << " nodes, rel error " << worst << ", optimize "
              << std::chrono::duration<double, std::milli>(t1 - t0).count() << " ms (with import), runs "
              << std::chrono::duration<double, std::milli>(t2 - t1).count() << " ms\n"
              << "        before: " << summary(before) << "\n        after:  " << summary(after) << "\n";
  }
}

}  // namespace
}  // namespace pith
