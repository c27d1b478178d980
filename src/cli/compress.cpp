// pith compress MODEL -o OUT.pith|OUT.onnx [--quantize fp16 | --quantize dynamic-int8 |
//               --quantize int4 [--block 16|32|64|128]
//               [--calibration X.npy] | --quantize int8 --calibration X.npy
//               [--calibration-method minmax|percentile|entropy|mse] [--percentile P]
//               [--weight-bits 8|7]] [--entropy] [--data X.npy [--labels Y.npy]]
//               [--report R.json] [--threads N]
// Compresses MODEL and writes OUT: a .pith artifact (optionally with its tensors zstd
// coded), or an ONNX model (QDQ for int8; DynamicQuantizeLinear and MatMulInteger for
// dynamic-int8). Prints (and with --report writes) a JSON
// report: each technique, the size before and after, bits per weight, and with --data
// the accuracy (labels) or the agreement and SQNR against the uncompressed model, before
// and after. Evaluation runs before anything is written, so bad data leaves no output.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "artifact/artifact.h"
#include "cli/commands.h"
#include "compress/evaluate.h"
#include "compress/recipe.h"
#include "core/block_q4.h"
#include "core/file_io.h"
#include "core/npy.h"
#include "onnx/export.h"
#include "passes/passes.h"
#ifdef PITH_HAVE_SERVER
#include <fstream>
#include <nlohmann/json.hpp>

#include "serve/input_pipeline.h"
#include "serve/output_pipeline.h"
#endif

#ifndef PITH_VERSION
#define PITH_VERSION "unknown"
#endif

namespace pith::cli {

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// The JSON of --input-pipeline / --output-pipeline, checked as `pith serve` will read it.
std::string serving_pipeline(const std::string& option, const std::string& file) {
#ifdef PITH_HAVE_SERVER
  std::ifstream in(file);
  PITH_CHECK(in, "--", option, " ", file, ": cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("--", option, " ", file, ": not valid JSON: ", e.what());
  }
  try {
    j = option == "input-pipeline" ? serve::input_pipeline_json(serve::parse_input_pipeline(j))
                                   : serve::output_pipeline_json(serve::parse_output_pipeline(j));
  } catch (const Error& e) {
    fail("--", option, " ", file, ": ", e.what());
  }
  return j.dump();
#else
  fail("--", option, ": this build has no pith serve (PITH_BUILD_SERVER=OFF)");
#endif
}

}  // namespace

int cmd_compress(const std::vector<std::string>& argv) {
  const char* usage =
      "usage: pith compress MODEL -o OUT.pith|OUT.onnx [--quantize fp16 | --quantize dynamic-int8 |\n"
      "       --quantize int4 [--block 16|32|64|128]\n"
      "       [--calibration X.npy] | --quantize int8 --calibration X.npy\n"
      "       [--calibration-method minmax|percentile|entropy|mse] [--percentile P] [--weight-bits 8|7]]\n"
      "       [--low-rank E] [--prune S [--prune-allocation uniform|global|erk] | --prune-pattern 2:4] [--cluster K]\n"
      "       [--entropy] [--input-pipeline P.json] [--output-pipeline O.json]\n"
      "       [--data X.npy [--labels Y.npy]] [--report R.json] [--threads N]";
  Args args = Args::parse(argv,
                          {"output", "quantize", "calibration", "calibration-method", "percentile", "data", "labels",
                           "report", "threads", "batch", "weight-bits", "prune", "prune-pattern", "cluster",
                           "prune-allocation", "block", "low-rank", "input-pipeline", "output-pipeline"},
                          {"entropy"});
  PITH_CHECK(args.positional.size() == 1, usage);
  const std::string model_path = args.positional[0], out = args.get("output");
  PITH_CHECK(!out.empty(), "-o OUT is required\n", usage);
  const std::string ext = std::filesystem::path(out).extension().string();
  PITH_CHECK(ext == ".pith" || ext == ".onnx", out, ": output must end in .pith (artifact) or .onnx");
  const bool to_pith = ext == ".pith", entropy = args.flag("entropy");
  PITH_CHECK(to_pith || (args.get("input-pipeline").empty() && args.get("output-pipeline").empty()),
             "--input-pipeline and --output-pipeline need a .pith output (they go into its metadata)");
  PITH_CHECK(!entropy || to_pith, "--entropy needs a .pith output (ONNX files hold tensors uncoded)");
  const std::string quantize = args.get("quantize");
  PITH_CHECK(
      quantize.empty() || quantize == "int8" || quantize == "int4" || quantize == "fp16" || quantize == "dynamic-int8",
      "--quantize ", quantize, ": unknown (supported: int8, int4, fp16, dynamic-int8)");
  const bool fp16 = quantize == "fp16", int8 = quantize == "int8", int4 = quantize == "int4";
  const bool dynamic = quantize == "dynamic-int8";
  PITH_CHECK(!dynamic || args.get("calibration").empty(),
             "--quantize dynamic-int8 takes no --calibration (activations are quantized at run time)");
  PITH_CHECK(!fp16 || to_pith, "--quantize fp16 needs a .pith output (it stores the weights in 16 bits)");
  PITH_CHECK(!int4 || to_pith, "--quantize int4 needs a .pith output (it stores the weights in 4-bit blocks)");
  PITH_CHECK(to_pith || !quantize.empty() || !args.get("prune").empty() || !args.get("low-rank").empty(),
             "nothing to do for an ONNX output: give --quantize int8, --prune S or --low-rank E\n", usage);
  Recipe recipe;
  recipe.quantize = quantize;
  recipe.entropy = entropy;
  recipe.block = args.get_int("block", 32, 1);
  PITH_CHECK(args.get("block").empty() || int4, "--block goes with --quantize int4");
  PITH_CHECK(valid_q4_block(recipe.block), "--block must be 16, 32, 64 or 128, got ", recipe.block);
  PruneOptions& prune = recipe.pruning;
  const bool pruning = !args.get("prune").empty() || !args.get("prune-pattern").empty();
  if (pruning) {
    prune.pattern = args.get("prune-pattern", "unstructured");
    PITH_CHECK(prune.pattern == "unstructured" || prune.pattern == "2:4",
               "--prune-pattern must be unstructured or 2:4, got '", prune.pattern,
               "' (channel pruning is not built yet)");
    if (prune.pattern == "2:4") {
      prune.sparsity = 0.5;
    } else {
      const std::string v = args.get("prune");
      PITH_CHECK(!v.empty(), "--prune-pattern unstructured needs --prune S (the fraction of weights to zero)");
      prune.sparsity = parse_number(v).value_or(-1);
      PITH_CHECK(prune.sparsity >= 0 && prune.sparsity < 1, "--prune must be a fraction in [0, 1), got '", v, "'");
    }
    prune.allocation = args.get("prune-allocation", "uniform");
    PITH_CHECK(prune.allocation == "uniform" || prune.allocation == "global" || prune.allocation == "erk",
               "--prune-allocation must be uniform, global or erk, got '", prune.allocation, "'");
  }
  recipe.prune = pruning;
  if (!args.get("low-rank").empty()) {
    const std::string v = args.get("low-rank");
    recipe.low_rank = parse_number(v).value_or(-1);
    PITH_CHECK(recipe.low_rank > 0 && recipe.low_rank <= 1,
               "--low-rank is the fraction of each layer's energy to keep, in (0, 1], got '", v, "'");
  }
  const bool clustering = !args.get("cluster").empty();
  if (clustering) {
    recipe.cluster = int(args.get_int("cluster", 16, 0));
    PITH_CHECK(recipe.cluster >= 2 && recipe.cluster <= 256, "--cluster must be in [2, 256], got ", recipe.cluster);
    PITH_CHECK(quantize.empty(),
               "--cluster keeps float weights (stored as a palette); it does not combine with "
               "--quantize");
    PITH_CHECK(to_pith, "--cluster needs a .pith output (the palette encoding is the artifact's)");
  }
  PITH_CHECK(!int8 || !args.get("calibration").empty(),
             "--quantize int8 needs --calibration X.npy (a few hundred samples)");
  // Calibration samples also make pruning data-aware (selection by |w| * ||x||, refit).

  recipe.method = parse_calibration_method(args.get("calibration-method", "minmax"));
  if (!args.get("percentile").empty()) {
    const std::string p = args.get("percentile");
    recipe.percentile = parse_number(p).value_or(-1);
    PITH_CHECK(recipe.percentile > 50 && recipe.percentile <= 100, "--percentile must be a number in (50, 100], got '",
               p, "'");
  }
  recipe.weight_bits = int(args.get_int("weight-bits", 8, 2));
  PITH_CHECK(recipe.weight_bits == 7 || recipe.weight_bits == 8, "--weight-bits must be 7 or 8, got ",
             recipe.weight_bits);
  PredictOptions run;
  run.threads = int(args.get_int("threads", 1, 1));
  run.batch = args.get_int("batch", 0, 1);

  Tensor calibration = args.get("calibration").empty() ? Tensor() : read_npy(args.get("calibration"));
  Tensor data, labels;
  if (!args.get("data").empty()) data = read_npy(args.get("data"));
  if (!args.get("labels").empty()) {
    PITH_CHECK(data.defined(), "--labels needs --data");
    labels = read_npy(args.get("labels"));
  }

  const auto t0 = std::chrono::steady_clock::now();
  auto original = load_model(model_path, /*optimize=*/true);
  RecipeResult result;
  try {
    result = apply_recipe(*original, recipe, calibration, run);
  } catch (const Error& e) {
    if (args.get("calibration").empty()) throw;
    fail("--calibration ", args.get("calibration"), ": ", e.what());
  }
  if (int8)
    std::cerr << "compress: " << result.int8.layers.size() << " layer(s) int8, " << result.int8.skipped.size()
              << " kept float\n";

  // Evaluate before writing, so that bad --data or --labels leave no output behind.
  // The graph as pith runs it: QDQ lowered to int8 nodes (what a .pith artifact stores:
  // no dequantize chains, no bias scales, nothing left to rewrite at load).
  auto lowered = std::make_shared<Graph>(std::move(result.lowered));
  std::ostringstream scores;
  if (data.defined()) {
    PredictOptions po;
    po.threads = run.threads;
    Tensor before = predict(original, data, po), after = predict(lowered, data, po);
    scores << ",\"samples\":" << data.dim(0);
    if (labels.defined())
      scores << ",\"accuracy_before\":" << json_number(top1_accuracy(before, labels))
             << ",\"accuracy_after\":" << json_number(top1_accuracy(after, labels));
    scores << ",\"agreement\":" << json_number(top1_agreement(after, before))
           << ",\"sqnr_db\":" << json_number(sqnr_db(after, before));
  }

  std::ostringstream stored;
  if (to_pith) {
    artifact::WriteOptions wo;
    wo.zstd = entropy;
    if (entropy) result.techniques.push_back({{"name", "entropy"}, {"coder", "zstd"}, {"level", wo.zstd_level}});
    wo.metadata = {{"name", std::filesystem::path(model_path).stem().string()},
                   {"source", std::filesystem::path(model_path).filename().string()},
                   {"source_bytes", std::to_string(std::filesystem::file_size(model_path))},
                   {"pith_version", PITH_VERSION},
                   {"created", utc_now()},
                   {"techniques", result.techniques.dump()}};
    for (auto& [key, option] : {std::pair<std::string, std::string>{"input_pipeline", "input-pipeline"},
                                {"output_pipeline", "output-pipeline"}})
      if (!args.get(option).empty()) wo.metadata[key] = serving_pipeline(option, args.get(option));
    const artifact::WriteStats ws = artifact::write_file(*lowered, out, wo);
    stored << ",\"model_bytes\":" << ws.model_bytes << ",\"stored_model_bytes\":" << ws.stored_model_bytes
           << ",\"tensor_bytes\":" << ws.tensor_bytes << ",\"stored_tensor_bytes\":" << ws.stored_tensor_bytes
           << ",\"parameters\":" << ws.parameters << ",\"bits_per_weight\":"
           << json_number(ws.parameters ? 8.0 * double(ws.stored_tensor_bytes) / double(ws.parameters) : 0.0);
  } else {
    onnx_export::ExportOptions eo;
    eo.doc_string = std::string(dynamic ? "dynamic int8" : "int8 (QDQ)") + " by pith compress from " +
                    std::filesystem::path(model_path).filename().string();
    onnx_export::export_file(int8 || dynamic ? result.qdq : *lowered, out, eo);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto size_before = std::filesystem::file_size(model_path), size_after = std::filesystem::file_size(out);

  std::ostringstream json;
  json << "{\"model\":\"" << json_escape(model_path) << "\",\"output\":\"" << json_escape(out) << "\""
       << ",\"size_before\":" << size_before << ",\"size_after\":" << size_after
       << ",\"ratio\":" << json_number(double(size_before) / double(size_after)) << stored.str()
       << ",\"techniques\":" << result.techniques.dump() << ",\"seconds\":" << json_number(seconds) << scores.str()
       << "}";
  if (!args.get("report").empty()) write_file_atomically(args.get("report"), {json.str(), "\n"});
  std::cerr << "compress: " << size_before << " -> " << size_after << " bytes; wrote " << out << "\n";
  std::cout << json.str() << "\n";
  return 0;
}

}  // namespace pith::cli
