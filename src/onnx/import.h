// ONNX import: reads a .onnx file (protobuf, through Debian's libonnx) into a pith
// Graph. Constant nodes become initializers, unused initializers are dropped,
// external-data initializers are read from files beside the model, ONNX shape
// inference fills value_info where it can, and the graph is verified and sorted.
// Every problem is a pith::Error naming the file and what was wrong.
#pragma once

#include <string>

#include "ir/graph.h"

namespace pith::onnx_import {

struct ImportOptions {
  bool infer_shapes = true;
};

Graph import_file(const std::string& path, const ImportOptions& options = {});
// `base_dir` resolves external data; `source` names the model in errors.
Graph import_bytes(const std::string& bytes, const std::string& source, const std::string& base_dir,
                   const ImportOptions& options = {});

// A serialized onnx.TensorProto (as in the backend test suite's input_0.pb).
Tensor read_tensor_file(const std::string& path);

// Highest default-domain opset pith imports.
constexpr int64_t kMaxOpset = 17;

}  // namespace pith::onnx_import
