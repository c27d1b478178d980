// Runs every model in the given folders (NAME.onnx with NAME_input.npy and
// NAME_expected.npy beside it, as tools/export_zoo.py writes them) and compares
// pith's first output with PyTorch's: max |pith - torch| must be within 1e-4 of the
// output's largest magnitude. Prints one line per model and "N passed, N failed".
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "core/npy.h"
#include "onnx/import.h"
#include "passes/passes.h"
#include "runtime/session.h"

namespace fs = std::filesystem;
using namespace pith;

int main(int argc, char** argv) {
  std::vector<fs::path> dirs;
  size_t min_models = 1;
  double tolerance = 1e-4;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--min-models" && i + 1 < argc) min_models = std::stoul(argv[++i]);
    else dirs.push_back(a);
  }
  int passed = 0, failed = 0;
  for (auto& dir : dirs) {
    if (!fs::is_directory(dir)) {
      std::cout << "FAIL " << dir << ": not a directory (run tools/export_zoo.py --out " << dir << ")\n";
      ++failed;
      continue;
    }
    std::vector<fs::path> models;
    for (auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".onnx") models.push_back(e.path());
    std::sort(models.begin(), models.end());
    for (auto& model : models) {
      std::string stem = model.stem().string();
      fs::path input = dir / (stem + "_input.npy"), expected = dir / (stem + "_expected.npy");
      if (!fs::exists(input) || !fs::exists(expected)) continue;
      try {
        auto t0 = std::chrono::steady_clock::now();
        auto graph = std::make_shared<Graph>(onnx_import::import_file(model.string()));
        optimize(*graph);  // the fused graph is what users run
        Session session(graph);
        Tensor x = read_npy(input.string());
        session.run({{graph->inputs.at(0).name, x}});  // plans memory
        auto outputs = session.run({{graph->inputs.at(0).name, x}});  // runs from the arena
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        Tensor want = read_npy(expected.string());
        Tensor got = outputs.at(0);
        if (got.shape() != want.shape()) {
          std::cout << "FAIL " << stem << ": shape " << shape_str(got.shape()) << " vs " << shape_str(want.shape()) << "\n";
          ++failed;
          continue;
        }
        double max_ref = 0, max_err = 0;
        for (int64_t i = 0; i < want.numel(); ++i) {
          max_ref = std::max(max_ref, std::fabs(want.as_double(i)));
          double e = std::fabs(got.as_double(i) - want.as_double(i));
          if (std::isnan(e)) e = INFINITY;
          max_err = std::max(max_err, e);
        }
        double rel = max_err / std::max(max_ref, 1e-12);
        bool ok = rel <= tolerance;
        std::cout << (ok ? "PASS " : "FAIL ") << stem << ": max error " << max_err << " = " << rel
                  << " of max |output| " << max_ref << " (" << ms << " ms)\n";
        (ok ? passed : failed)++;
      } catch (const std::exception& e) {
        std::cout << "FAIL " << stem << ": " << e.what() << "\n";
        ++failed;
      }
    }
  }
  if (size_t(passed + failed) < min_models) {
    std::cout << "FAIL: found " << passed + failed << " models, expected at least " << min_models << "\n";
    ++failed;
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}
