// pith export MODEL --format c -o DIR [--name NAME]
// pith export MODEL --format onnx -o OUT.onnx
// C: writes DIR/NAME.c and DIR/NAME.h (targets/codegen_c/export_c.h), a self-contained C99
// inference function for microcontrollers, and prints a JSON summary (arena and weight
// bytes, kernels). ONNX: the model as standard ONNX operators (fused nodes expanded, int8
// as QDQ where the graph holds it as such).
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/file_io.h"
#include "onnx/export.h"
#include "targets/codegen_c/export_c.h"

namespace pith::cli {

int cmd_export(const std::vector<std::string>& argv) {
  const char* usage =
      "usage: pith export MODEL --format c -o DIR [--name NAME]\n"
      "       pith export MODEL --format onnx -o OUT.onnx";
  Args args = Args::parse(argv, {"output", "format", "name"}, {});
  PITH_CHECK(args.positional.size() == 1, usage);
  const std::string model_path = args.positional[0], out = args.get("output"), format = args.get("format");
  PITH_CHECK(!out.empty(), "-o is required\n", usage);
  PITH_CHECK(format == "c" || format == "onnx", "--format must be c or onnx, got '", format, "'\n", usage);
  if (format == "onnx") {
    PITH_CHECK(args.get("name").empty(), "--name goes with --format c");
    PITH_CHECK(std::filesystem::path(out).extension() == ".onnx", out, ": the ONNX output must end in .onnx");
    auto graph = load_model(model_path, /*optimize=*/false);
    onnx_export::ExportOptions eo;
    eo.doc_string = "exported by pith from " + std::filesystem::path(model_path).filename().string();
    onnx_export::export_file(*graph, out, eo);
    std::cerr << "export: wrote " << out << "\n";
    return 0;
  }
  PITH_CHECK(!std::filesystem::exists(out) || std::filesystem::is_directory(out), out,
             ": exists and is not a directory (the C export writes NAME.c and NAME.h into it)");
  auto graph = load_model(model_path, /*optimize=*/true);
  targets::CExportOptions options;
  options.name = args.get("name", "model");
  options.source = std::filesystem::path(model_path).filename().string();
  const targets::CExport e = targets::export_c(*graph, options);
  std::filesystem::create_directories(out);
  const std::string base = (std::filesystem::path(out) / options.name).string();
  write_file_atomically(base + ".h", {e.header});
  write_file_atomically(base + ".c", {e.source});
  std::cerr << "export: wrote " << base << ".c and " << base << ".h\n";
  std::cout << nlohmann::ordered_json{{"source", base + ".c"},
                                      {"header", base + ".h"},
                                      {"arena_bytes", e.arena_bytes},
                                      {"weight_bytes", e.weight_bytes},
                                      {"input_elements", e.input_elements},
                                      {"output_elements", e.output_elements},
                                      {"kernels", e.kernels}}
                   .dump()
            << "\n";
  return 0;
}

}  // namespace pith::cli
