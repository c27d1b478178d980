#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>

#include "artifact/artifact.h"
#include "artifact/signature.h"
#include "cli/commands.h"
#include "core/npy.h"
#include "onnx/import.h"
#include "passes/passes.h"

namespace pith::cli {

Args Args::parse(const std::vector<std::string>& argv, const std::vector<std::string>& valued,
                 const std::vector<std::string>& boolean) {
  Args a;
  auto contains = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    // -o is --output for every command that takes one.
    const std::string s = argv[i] == "-o" && contains(valued, "output") ? std::string("--output") : argv[i];
    if (s.rfind("--", 0) == 0 && s.size() > 2) {
      std::string key = s.substr(2), value;
      bool inline_value = false;
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = key.substr(eq + 1);
        key = key.substr(0, eq);
        inline_value = true;
      }
      if (contains(valued, key)) {
        if (!inline_value) {
          PITH_CHECK(i + 1 < argv.size(), "option --", key, " needs a value");
          value = argv[++i];
        }
        a.options[key].push_back(value);
      } else if (contains(boolean, key) && !inline_value) {
        a.flags.push_back(key);
      } else {
        fail("unknown option --", key);
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

bool Args::flag(const std::string& name) const { return std::find(flags.begin(), flags.end(), name) != flags.end(); }

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() ? fallback : it->second.back();
}

int64_t Args::get_int(const std::string& name, int64_t fallback, int64_t min_value) const {
  auto it = options.find(name);
  if (it == options.end()) return fallback;
  const std::string& s = it->second.back();
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  PITH_CHECK(used == s.size() && !s.empty(), "option --", name, " expects an integer, got '", s, "'");
  PITH_CHECK(v >= min_value, "option --", name, " must be at least ", min_value, ", got ", v);
  return v;
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

std::shared_ptr<Graph> load_model(const std::string& path, bool optimize_graph, const std::string& public_key,
                                  std::map<std::string, std::string>* metadata) {
  PITH_CHECK(std::filesystem::exists(path), path, ": no such file");
  PITH_CHECK(!std::filesystem::is_directory(path), path, ": is a directory, expected a .onnx or .pith model file");
  const bool pith = std::filesystem::path(path).extension() == ".pith" || artifact::looks_like_artifact(path);
  if (!public_key.empty()) {
    PITH_CHECK(pith, path, ": --public-key needs a signed .pith artifact, not an ONNX file");
    artifact::require_signature(path, public_key);
  }
  std::shared_ptr<Graph> graph;
  if (pith) {
    artifact::Artifact a = artifact::read_file(path);
    if (metadata) *metadata = std::move(a.metadata);
    graph = std::make_shared<Graph>(std::move(a.graph));
  } else {
    graph = std::make_shared<Graph>(onnx_import::import_file(path));
  }
  if (optimize_graph) optimize(*graph);
  return graph;
}

std::map<std::string, Tensor> load_inputs(const Graph& g, const std::vector<std::string>& specs) {
  std::map<std::string, Tensor> inputs;
  size_t next_positional = 0;
  for (auto& spec : specs) {
    std::string name, file = spec;
    auto eq = spec.find('=');
    if (eq != std::string::npos && !std::filesystem::exists(spec)) {
      name = spec.substr(0, eq);
      file = spec.substr(eq + 1);
      bool known = false;
      for (auto& v : g.inputs) known |= v.name == name;
      if (!known) {
        std::string names;
        for (auto& v : g.inputs) names += (names.empty() ? "'" : ", '") + v.name + "'";
        fail("--input ", spec, ": the model has no input named '", name, "' (its inputs: ", names, ")");
      }
    } else {
      PITH_CHECK(next_positional < g.inputs.size(), "--input ", spec, ": the model has only ", g.inputs.size(),
                 " input(s); name them as NAME=FILE.npy");
      name = g.inputs[next_positional++].name;
    }
    PITH_CHECK(!inputs.count(name), "--input: input '", name, "' given twice");
    inputs[name] = read_npy(file);
  }
  return inputs;
}

std::map<std::string, Tensor> random_inputs(const Graph& g, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::map<std::string, Tensor> inputs;
  for (auto& v : g.inputs) {
    Shape shape;
    if (v.shape)
      for (auto& d : *v.shape) shape.push_back(d.known() ? d.value : 1);
    Tensor f(DType::Float32, shape);
    for (int64_t i = 0; i < f.numel(); ++i) f.data<float>()[i] = normal(rng);
    PITH_CHECK(dtype_is_storable(v.dtype), "input '", v.name, "' has element type ", dtype_name(v.dtype),
               "; pass it with --input");
    if (dtype_is_int(v.dtype) || v.dtype == DType::Bool) {
      // Small non-negative integers: valid indices for most index inputs.
      for (int64_t i = 0; i < f.numel(); ++i) f.data<float>()[i] = float(rng() % 2);
    }
    inputs[v.name] = cast_tensor(f, v.dtype);
  }
  return inputs;
}

std::optional<double> parse_number(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || !end || *end != '\0') return std::nullopt;
  return v;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string json_number(double v) {
  if (std::isnan(v)) return "null";
  if (std::isinf(v)) return v > 0 ? "1e999" : "-1e999";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string describe_shape(const ValueInfo& v) {
  if (!v.shape) return "?";
  std::string s = "[";
  for (size_t i = 0; i < v.shape->size(); ++i) {
    if (i) s += ", ";
    auto& d = (*v.shape)[i];
    s += d.known() ? std::to_string(d.value) : (d.param.empty() ? "?" : d.param);
  }
  return s + "]";
}

namespace {
const char* kUsage =
    "usage: pith <command> [options]\n"
    "\n"
    "commands:\n"
    "  inspect MODEL [--json]            operators, parameters, MACs, sizes, inputs/outputs, unsupported ops\n"
    "  run MODEL [--input [NAME=]X.npy]... [--output-dir DIR] [--threads N]\n"
    "                                    run once; writes DIR/<i>.npy for the i-th output\n"
    "  bench MODEL [--input ...] [--threads N] [--warmup N] [--iterations N] [--json]\n"
    "                                    latency (median, min, p90) and memory\n"
    "  eval MODEL --data X.npy [--labels Y.npy] [--reference MODEL] [--batch N] [--threads N] [--json]\n"
    "                                    top-1 accuracy; agreement and SQNR against a reference model\n"
    "  compress MODEL -o OUT.pith|OUT.onnx [--quantize int8 --calibration X.npy [--calibration-method M]]\n"
    "           [--entropy] [--data X.npy [--labels Y.npy]] [--report R.json]\n"
    "                                    static int8, zstd entropy coding; JSON report of size and accuracy\n"
    "  deploy MODEL --target PROFILE [--max-size-mb S] [--max-memory-mb M] [--max-latency-ms L]\n"
    "           [--max-energy-mj E] [--min-accuracy A | --max-accuracy-drop D] [--optimize speed|size|balanced]\n"
    "           --data X.npy [--labels Y.npy] -o DIR\n"
    "                                    search compressions under a device's budgets: DIR/model.pith,\n"
    "                                    DIR/report.json and report.html; exit 3 when nothing fits\n"
    "  profiles [NAME] [--json]          the device profiles (RAM, storage, throughput, sources)\n"
    "  export MODEL --format c -o DIR [--name NAME] | --format onnx -o OUT.onnx\n"
    "                                    C99 source for microcontrollers (static arena, const weights)\n"
    "  serve --models DIR [--port P] [--workers N] [--queue N] [--public-key K] [--deadline-ms D] ...\n"
    "                                    HTTP inference server: predict, versions, rollback, /metrics\n"
    "\n"
    "  keygen NAME                       Ed25519 key pair NAME.key (secret), NAME.pub\n"
    "  sign MODEL.pith --key NAME.key    sign an artifact; verify MODEL.pith --public-key NAME.pub\n"
    "\n"
    "MODEL is an .onnx model or a .pith artifact; inspect, run, bench and eval take\n"
    "--public-key NAME.pub to accept only artifacts that key signed. Exit codes: 0 success, 1 bad input or usage,\n"
    "3 constraints not met (deploy).\n";
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  try {
    if (cmd == "inspect") return cmd_inspect(args);
    if (cmd == "run") return cmd_run(args);
    if (cmd == "bench") return cmd_bench(args);
    if (cmd == "eval") return cmd_eval(args);
    if (cmd == "compress") return cmd_compress(args);
    if (cmd == "keygen") return cmd_keygen(args);
    if (cmd == "sign") return cmd_sign(args);
    if (cmd == "verify") return cmd_verify(args);
    if (cmd == "deploy") return cmd_deploy(args);
    if (cmd == "profiles") return cmd_profiles(args);
    if (cmd == "export") return cmd_export(args);
#ifdef PITH_HAVE_SERVER
    if (cmd == "serve") return cmd_serve(args);
#endif
    std::cerr << "pith: unknown command '" << cmd << "'\n" << kUsage;
    return 1;
  } catch (const Error& e) {
    std::cerr << "pith " << cmd << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "pith " << cmd << ": error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pith " << cmd << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace pith::cli
