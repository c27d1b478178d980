// Runs the ONNX backend test suite (Debian's libonnx-testdata) through pith: for
// each case, import model.onnx, feed test_data_set_0's inputs, compare with its
// outputs (rtol 1e-3, atol 1e-5, as the ONNX backend does). Prints one line per
// case and the totals. With --expect FILE, exits non-zero if any case listed in
// FILE does not pass (the regression gate CI uses); --write FILE records the
// passing cases.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "onnx/import.h"
#include "runtime/session.h"

namespace fs = std::filesystem;
using namespace pith;

namespace {

enum class Outcome { Pass, Fail, Unsupported };

// The suite stores bfloat16 test tensors as UINT16 bit patterns.
Tensor retag_bfloat16(const Tensor& t) {
  Tensor out(DType::BFloat16, t.shape());
  if (t.nbytes()) std::memcpy(out.raw(), t.raw(), t.nbytes());
  return out;
}

std::string compare(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype())
    return std::string("dtype ") + dtype_name(got.dtype()) + ", expected " + dtype_name(want.dtype());
  if (got.shape() != want.shape()) return "shape " + shape_str(got.shape()) + ", expected " + shape_str(want.shape());
  for (int64_t i = 0; i < want.numel(); ++i) {
    double a = got.as_double(i), b = want.as_double(i);
    if (want.dtype() == DType::Int64 || want.dtype() == DType::UInt64) {
      if (got.as_int64(i) != want.as_int64(i))
        return "element " + std::to_string(i) + ": " + std::to_string(got.as_int64(i)) + " vs " +
               std::to_string(want.as_int64(i));
      continue;
    }
    if (std::isnan(a) && std::isnan(b)) continue;
    if (std::isinf(b) && a == b) continue;
    if (!(std::fabs(a - b) <= 1e-5 + 1e-3 * std::fabs(b)))
      return "element " + std::to_string(i) + ": " + std::to_string(a) + " vs " + std::to_string(b);
  }
  return "";
}

std::vector<fs::path> sorted_pb(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) files.push_back(e.path());
  std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) {
    auto num = [&](const fs::path& p) {
      std::string s = p.stem().string();
      return std::stoi(s.substr(prefix.size()));
    };
    return num(a) < num(b);
  });
  return files;
}

Outcome run_case(const fs::path& dir, std::string& reason) {
  Graph g;
  try {
    g = onnx_import::import_file((dir / "model.onnx").string());
  } catch (const Error& e) {
    reason = e.what();
    return Outcome::Unsupported;
  }
  if (!find_unsupported_ops(g).empty()) {
    auto u = find_unsupported_ops(g);
    reason = "unsupported op " + u[0].op_type;
    return Outcome::Unsupported;
  }
  fs::path data = dir / "test_data_set_0";
  if (!fs::exists(data)) {
    reason = "no test_data_set_0";
    return Outcome::Unsupported;
  }
  try {
    auto input_files = sorted_pb(data, "input_");
    auto output_files = sorted_pb(data, "output_");
    std::map<std::string, Tensor> inputs;
    // Inputs pair with the graph's inputs in order (initializer-backed inputs excluded).
    if (input_files.size() != g.inputs.size()) {
      reason = "case gives " + std::to_string(input_files.size()) + " inputs, graph has " +
               std::to_string(g.inputs.size()) + " (optional or non-tensor inputs)";
      return Outcome::Unsupported;
    }
    for (size_t i = 0; i < input_files.size(); ++i) {
      Tensor t = onnx_import::read_tensor_file(input_files[i].string());
      if (g.inputs[i].dtype == DType::BFloat16 && t.dtype() == DType::UInt16) t = retag_bfloat16(t);
      inputs[g.inputs[i].name] = t;
    }
    auto shared = std::make_shared<Graph>(std::move(g));
    Session session(shared);
    auto outputs = session.run(inputs);
    if (outputs.size() != output_files.size()) {
      reason = "produced " + std::to_string(outputs.size()) + " outputs, expected " + std::to_string(output_files.size());
      return Outcome::Fail;
    }
    // Twice: the first run plans memory, the second runs from the planned arena.
    for (int pass = 0; pass < 2; ++pass) {
      if (pass == 1) outputs = session.run(inputs);
      for (size_t i = 0; i < outputs.size(); ++i) {
        Tensor want = onnx_import::read_tensor_file(output_files[i].string());
        if (outputs[i].dtype() == DType::BFloat16 && want.dtype() == DType::UInt16) want = retag_bfloat16(want);
        std::string diff = compare(outputs[i], want);
        if (!diff.empty()) {
          reason = std::string(pass ? "second run (arena) " : "") + "output " + std::to_string(i) + ": " + diff;
          return Outcome::Fail;
        }
      }
    }
  } catch (const std::exception& e) {
    reason = e.what();
    std::replace(reason.begin(), reason.end(), '\n', ' ');
    return Outcome::Fail;
  }
  return Outcome::Pass;
}

}  // namespace

int main(int argc, char** argv) {
  std::string root = "/usr/share/libonnx-testdata/data";
  std::string expect_file, write_file, filter;
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) root = argv[++i];
    else if (a == "--expect" && i + 1 < argc) expect_file = argv[++i];
    else if (a == "--write" && i + 1 < argc) write_file = argv[++i];
    else if (a == "--filter" && i + 1 < argc) filter = argv[++i];
    else if (a == "--quiet") quiet = true;
    else {
      std::cerr << "usage: pith_conformance [--data DIR] [--filter SUBSTR] [--expect FILE] [--write FILE] [--quiet]\n";
      return 1;
    }
  }
  if (!fs::exists(root)) {
    std::cerr << root << ": ONNX backend test data not found (install libonnx-testdata)\n";
    return 1;
  }
  const std::vector<std::string> suites = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  std::set<std::string> passing;
  int total = 0, passed = 0, failed = 0, unsupported = 0;
  for (auto& suite : suites) {
    std::vector<fs::path> cases;
    for (auto& e : fs::directory_iterator(fs::path(root) / suite)) cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    int sp = 0, sf = 0, su = 0;
    for (auto& dir : cases) {
      std::string name = suite + "/" + dir.filename().string();
      if (!filter.empty() && name.find(filter) == std::string::npos) continue;
      std::string reason;
      Outcome o = run_case(dir, reason);
      ++total;
      const char* tag = o == Outcome::Pass ? "PASS" : o == Outcome::Fail ? "FAIL" : "UNSUPPORTED";
      if (o == Outcome::Pass) { ++passed; ++sp; passing.insert(name); }
      else if (o == Outcome::Fail) { ++failed; ++sf; }
      else { ++unsupported; ++su; }
      if (!quiet || o == Outcome::Fail) {
        std::cout << tag << " " << name;
        if (!reason.empty()) std::cout << ": " << reason.substr(0, 300);
        std::cout << "\n";
      }
    }
    std::cout << "suite " << suite << ": " << sp << " passed, " << sf << " failed, " << su << " unsupported\n";
  }
  std::cout << "total: " << total << " cases, " << passed << " passed, " << failed << " failed, " << unsupported
            << " unsupported\n";
  if (!write_file.empty()) {
    std::ofstream f(write_file);
    f << "# ONNX backend test cases pith passes (regenerate with pith_conformance --write)\n";
    for (auto& n : passing) f << n << "\n";
  }
  if (!expect_file.empty()) {
    std::ifstream f(expect_file);
    if (!f) {
      std::cerr << expect_file << ": cannot open\n";
      return 1;
    }
    std::string line;
    int regressions = 0;
    while (std::getline(f, line)) {
      if (line.empty() || line[0] == '#') continue;
      if (!filter.empty() && line.find(filter) == std::string::npos) continue;
      if (!passing.count(line)) {
        std::cout << "REGRESSION " << line << "\n";
        ++regressions;
      }
    }
    if (regressions) {
      std::cout << regressions << " case(s) listed in " << expect_file << " no longer pass\n";
      return 1;
    }
  }
  return 0;
}
