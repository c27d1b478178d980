// Shared pieces of the pith CLI: argument parsing, model and input loading, and the
// subcommand entry points (one file each). Every subcommand returns the process exit
// code: 0 success, 1 bad input or usage, 3 constraints not met.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

namespace pith::cli {

int main(int argc, char** argv);

int cmd_inspect(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_compress(const std::vector<std::string>& args);
int cmd_keygen(const std::vector<std::string>& args);
int cmd_sign(const std::vector<std::string>& args);
int cmd_verify(const std::vector<std::string>& args);
int cmd_deploy(const std::vector<std::string>& args);
int cmd_profiles(const std::vector<std::string>& args);
int cmd_export(const std::vector<std::string>& args);
int cmd_serve(const std::vector<std::string>& args);

// A minimal option parser: positionals, `--flag`, `--key value` (repeatable); `-o` stands
// for `--output` where that is an option.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;
  std::vector<std::string> flags;

  // `valued` lists options taking a value, `boolean` flags without; anything else is an error.
  static Args parse(const std::vector<std::string>& argv, const std::vector<std::string>& valued,
                    const std::vector<std::string>& boolean);
  bool flag(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;
  int64_t get_int(const std::string& name, int64_t fallback, int64_t min_value = 0) const;
  std::vector<std::string> all(const std::string& name) const;
};

// Loads MODEL (.onnx, or a .pith artifact: by extension or by its magic). With `optimize`, the
// graph passes run (constant folding, fusion) before it is handed to a Session. With a
// public key file, MODEL must be a .pith artifact signed by that key. `metadata`, when
// given, receives an artifact's metadata (left empty for ONNX).
std::shared_ptr<Graph> load_model(const std::string& path, bool optimize = false, const std::string& public_key = "",
                                  std::map<std::string, std::string>* metadata = nullptr);

// `--input [NAME=]X.npy` values bound to the graph's inputs (positional when unnamed).
std::map<std::string, Tensor> load_inputs(const Graph& g, const std::vector<std::string>& specs);

// Random inputs following the graph's declared shapes (symbolic dimensions = 1).
std::map<std::string, Tensor> random_inputs(const Graph& g, uint64_t seed = 0);

// The number `s` spells, all of it (strtod's syntax); nullopt for anything else or "".
std::optional<double> parse_number(const std::string& s);

std::string json_escape(const std::string& s);
// A number for JSON: 6 significant digits; NaN as null, infinities as +-1e999 (JSON has no
// infinity; parsers read these as +-inf).
std::string json_number(double v);
std::string describe_shape(const ValueInfo& v);

}  // namespace pith::cli
