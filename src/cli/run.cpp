// pith run MODEL [--input [NAME=]X.npy]... [--output-dir DIR] [--threads N]
// Runs the model once; prints a summary of each output and, with --output-dir,
// writes DIR/<i>.npy for the i-th graph output.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/npy.h"
#include "runtime/session.h"

namespace pith::cli {

namespace {
void print_summary(size_t i, const ValueInfo& info, const Tensor& t) {
  std::cout << "output " << i << " '" << info.name << "': " << dtype_name(t.dtype()) << " " << shape_str(t.shape());
  int64_t n = std::min<int64_t>(t.numel(), 8);
  if (n > 0) {
    std::cout << " [";
    for (int64_t k = 0; k < n; ++k) std::cout << (k ? ", " : "") << t.as_double(k);
    std::cout << (t.numel() > n ? ", ...]" : "]");
  }
  std::cout << "\n";
}
}  // namespace

int cmd_run(const std::vector<std::string>& argv) {
  Args args = Args::parse(argv, {"input", "output-dir", "threads", "public-key"}, {});
  PITH_CHECK(args.positional.size() == 1,
             "usage: pith run MODEL [--input [NAME=]X.npy]... [--output-dir DIR] [--threads N]");
  auto graph = load_model(args.positional[0], /*optimize=*/true, args.get("public-key"));
  SessionOptions options;
  options.threads = int(args.get_int("threads", 1, 1));
  auto inputs = load_inputs(*graph, args.all("input"));
  for (auto& v : graph->inputs) {
    if (!inputs.count(v.name)) {
      std::string need;
      for (auto& w : graph->inputs) need += "\n  " + w.name + ": " + dtype_name(w.dtype) + " " + describe_shape(w);
      fail("missing input '", v.name, "'; pass --input [NAME=]FILE.npy for each of:", need);
    }
  }
  Session session(graph, options);
  auto outputs = session.run(inputs);
  std::string dir = args.get("output-dir");
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    PITH_CHECK(!ec && std::filesystem::is_directory(dir), "--output-dir ", dir, ": cannot create directory");
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    print_summary(i, graph->outputs[i], outputs[i]);
    if (!dir.empty()) write_npy((std::filesystem::path(dir) / (std::to_string(i) + ".npy")).string(), outputs[i]);
  }
  if (!dir.empty()) std::cout << "wrote " << outputs.size() << " output(s) to " << dir << "\n";
  return 0;
}

}  // namespace pith::cli
