// pith inspect MODEL [--json]: what is in a model, and what pith cannot run in it.
// pith inspect MODEL --kernels: the kernels a Session runs for it (after the graph passes),
// one registry key per line: the list a selective runtime build keeps (README, "A runtime
// with only your model's kernels").
#include <iostream>

#include <filesystem>
#include <map>
#include <set>

#include "artifact/artifact.h"
#include "artifact/signature.h"
#include "cli/commands.h"
#include "ir/analysis.h"
#include "runtime/session.h"

namespace pith::cli {

namespace {
std::string values_json(const std::vector<ValueInfo>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    auto& v = values[i];
    s += std::string(i ? ", " : "") + "{\"name\": \"" + json_escape(v.name) + "\", \"dtype\": \"" +
         dtype_name(v.dtype) + "\", \"shape\": [";
    if (v.shape) {
      for (size_t d = 0; d < v.shape->size(); ++d) {
        auto& dim = (*v.shape)[d];
        s += d ? ", " : "";
        s += dim.known() ? std::to_string(dim.value) : "\"" + json_escape(dim.param.empty() ? "?" : dim.param) + "\"";
      }
    }
    s += "]}";
  }
  return s + "]";
}

void collect_kernel_keys(const Graph& g, std::set<std::string>& keys) {
  for (auto& node : g.nodes) {
    keys.insert(kernel_key(node.domain, node.op_type));
    for (auto& [k, a] : node.attributes) {
      if (a.g) collect_kernel_keys(*a.g, keys);
      for (auto& sub : a.graphs) collect_kernel_keys(*sub, keys);
    }
  }
}
}  // namespace

int cmd_inspect(const std::vector<std::string>& argv) {
  Args args = Args::parse(argv, {"public-key"}, {"json", "kernels"});
  PITH_CHECK(args.positional.size() == 1, "usage: pith inspect MODEL [--json | --kernels]");
  const std::string path = args.positional[0];
  if (args.flag("kernels")) {
    PITH_CHECK(!args.flag("json"), "--kernels and --json are exclusive");
    // The graph as `pith run` executes it; its unsupported operators are an error here,
    // since no runtime build could run it.
    auto graph = load_model(path, /*optimize=*/true, args.get("public-key"));
    auto unsupported = find_unsupported_ops(*graph);
    PITH_CHECK(unsupported.empty(), path, ": pith has no kernel for ",
               kernel_key(unsupported[0].domain, unsupported[0].op_type), " (node '", unsupported[0].node_name, "')");
    std::set<std::string> keys;
    collect_kernel_keys(*graph, keys);
    std::cout << "# kernels for " << path << " (pith inspect --kernels)\n";
    for (auto& k : keys) std::cout << k << "\n";
    return 0;
  }
  // An artifact's metadata (what made it, from what) and whether it carries a signature.
  std::map<std::string, std::string> metadata;
  auto graph = load_model(path, /*optimize=*/false, args.get("public-key"), &metadata);
  const bool artifact_file = artifact::looks_like_artifact(path);
  const bool signed_file = artifact_file && artifact::unsigned_size(path) != std::filesystem::file_size(path);
  GraphStats stats = analyze(*graph);
  auto unsupported = find_unsupported_ops(*graph);

  if (args.flag("json")) {
    std::string ops = "{";
    bool first = true;
    for (auto& [op, n] : stats.op_counts) {
      ops += std::string(first ? "" : ", ") + "\"" + json_escape(op) + "\": " + std::to_string(n);
      first = false;
    }
    ops += "}";
    std::string unsup = "[";
    for (size_t i = 0; i < unsupported.size(); ++i) {
      auto& u = unsupported[i];
      unsup += std::string(i ? ", " : "") + "{\"op\": \"" + json_escape(u.op_type) + "\", \"domain\": \"" +
               json_escape(u.domain) + "\", \"node\": \"" + json_escape(u.node_name) +
               "\", \"opset\": " + std::to_string(u.opset) + "}";
    }
    unsup += "]";
    std::cout << "{\"model\": \"" << json_escape(path) << "\", \"opset\": " << graph->opset
              << ", \"nodes\": " << stats.nodes << ", \"ops\": " << ops << ", \"parameters\": " << stats.parameters
              << ", \"weight_bytes\": " << stats.weight_bytes << ", \"macs\": " << stats.macs
              << ", \"macs_complete\": " << (stats.nodes_without_macs == 0 ? "true" : "false")
              << ", \"inputs\": " << values_json(graph->inputs) << ", \"outputs\": " << values_json(graph->outputs)
              << ", \"unsupported\": " << unsup;
    if (artifact_file) {
      std::cout << ", \"signed\": " << (signed_file ? "true" : "false") << ", \"metadata\": {";
      bool first_key = true;
      for (auto& [k, v] : metadata) {
        std::cout << (first_key ? "" : ", ") << "\"" << json_escape(k) << "\": \"" << json_escape(v) << "\"";
        first_key = false;
      }
      std::cout << "}";
    }
    std::cout << "}\n";
    return 0;
  }

  std::cout << "model      " << path << "\n";
  std::cout << "opset      " << graph->opset << "\n";
  std::cout << "nodes      " << stats.nodes << "\n";
  std::cout << "parameters " << stats.parameters << "\n";
  std::cout << "weights    " << stats.weight_bytes << " bytes (" << double(stats.weight_bytes) / (1 << 20) << " MiB)\n";
  std::cout << "MACs       " << stats.macs;
  if (stats.nodes_without_macs) std::cout << " (+ " << stats.nodes_without_macs << " nodes with unknown shapes)";
  std::cout << "\n";
  std::cout << "inputs\n";
  for (auto& v : graph->inputs)
    std::cout << "  " << v.name << "  " << dtype_name(v.dtype) << " " << describe_shape(v) << "\n";
  std::cout << "outputs\n";
  for (auto& v : graph->outputs)
    std::cout << "  " << v.name << "  " << dtype_name(v.dtype) << " " << describe_shape(v) << "\n";
  std::cout << "operators\n";
  for (auto& [op, n] : stats.op_counts) std::cout << "  " << op << " x" << n << "\n";
  if (artifact_file) {
    std::cout << "artifact   " << (signed_file ? "signed" : "unsigned") << "\n";
    for (auto& [k, v] : metadata) std::cout << "  " << k << ": " << v << "\n";
  }
  if (unsupported.empty()) {
    std::cout << "unsupported none\n";
  } else {
    std::cout << "unsupported " << unsupported.size() << "\n";
    for (auto& u : unsupported)
      std::cout << "  " << (u.domain.empty() ? "" : u.domain + ".") << u.op_type << " (node '" << u.node_name
                << "', opset " << u.opset << ")\n";
  }
  return 0;
}

}  // namespace pith::cli
