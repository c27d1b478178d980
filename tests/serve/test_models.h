// Models for the serving tests, written as .pith artifacts into a temporary folder.
#pragma once

#include <filesystem>
#include <string>

#include "artifact/artifact.h"
#include "passes/passes.h"
#include "test_util/op_runner.h"
#include "test_util/small_cnn.h"

namespace pith::serve_test {

using test_util::info;

inline std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("pith_serve_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string write_model(const Graph& g, const std::string& path,
                               std::map<std::string, std::string> metadata = {}) {
  artifact::WriteOptions o;
  o.metadata = std::move(metadata);
  artifact::write_file(g, path, o);
  return path;
}

// About 3.5 ms per layer on one core of the CI machine: 3x3 convolutions (three unless
// told), 64 channels, 56x56.
inline Graph heavy_cnn(int layers = 3) {
  Graph g;
  g.name = "heavy_cnn";
  g.opset = 13;
  g.inputs.push_back(info("x", {Dim{1, ""}, Dim{64, ""}, Dim{56, ""}, Dim{56, ""}}));
  g.outputs.push_back(info("y", {Dim{1, ""}, Dim{64, ""}, Dim{56, ""}, Dim{56, ""}}));
  std::string prev = "x";
  for (int i = 0; i < layers; ++i) {
    const std::string w = "w" + std::to_string(i), b = "b" + std::to_string(i), c = "c" + std::to_string(i);
    const std::string out = i == layers - 1 ? "y" : "r" + std::to_string(i);
    g.initializers[w] = test_util::uniform_tensor({64, 64, 3, 3}, uint32_t(20 + i), -0.05f, 0.05f);
    g.initializers[b] = test_util::uniform_tensor({64}, uint32_t(30 + i), -0.1f, 0.1f);
    g.nodes.push_back(
        test_util::make_node("Conv", c, {prev, w, b}, {c + "o"}, {{"pads", test_util::attr_ints({1, 1, 1, 1})}}));
    g.nodes.push_back(test_util::make_node("Relu", "relu" + std::to_string(i), {c + "o"}, {out}));
    prev = out;
  }
  optimize(g);
  return g;
}

// y = table[indices]: runs on zeros (the smoke run) but fails for indices >= size.
inline Graph gather_model(int64_t size) {
  Graph g;
  g.name = "gather";
  g.opset = 13;
  g.inputs.push_back(info("indices", {Dim{1, ""}}, DType::Int64));
  g.outputs.push_back(info("y", {Dim{1, ""}}));
  g.initializers["table"] = test_util::uniform_tensor({size}, 5, 0.f, 1.f);
  g.nodes.push_back(test_util::make_node("Gather", "gather", {"table", "indices"}, {"y"}));
  return g;
}

}  // namespace pith::serve_test
