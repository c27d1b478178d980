// ONNX export: writes a pith Graph as an ONNX model that any ONNX consumer can run. pith's
// fused nodes go back to standard operators (pith.FusedConv -> Conv [+ Add] [+ activation],
// pith.FusedGemm -> Gemm [+ activation]); a quantized graph is exported in its QDQ form
// (before fuse_qdq lowers it), which is what ONNX Runtime and TensorRT read. Any other
// pith-domain node is an Error naming it. All tensors are stored as raw data.
#pragma once

#include <string>

#include "ir/graph.h"

namespace pith::onnx_export {

struct ExportOptions {
  std::string producer_name = "pith";
  std::string doc_string;
};

// The serialized ModelProto.
std::string export_bytes(const Graph& g, const ExportOptions& options = {});
// Writes the model to `path` through a temporary file renamed into place, so that a
// failure never leaves a half-written file.
void export_file(const Graph& g, const std::string& path, const ExportOptions& options = {});

}  // namespace pith::onnx_export
