#include "targets/profile.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace pith::targets {

// Generated at build time from src/targets/profiles/*.json (cmake/embed_files.cmake).
extern const std::vector<std::pair<std::string, std::string>> kBuiltinProfileFiles;

namespace {

using nlohmann::json;

const json& field(const json& j, const char* key, const std::string& origin) {
  PITH_CHECK(j.contains(key), origin, ": missing field \"", key, "\"");
  return j.at(key);
}

std::string string_field(const json& j, const char* key, const std::string& origin) {
  const json& v = field(j, key, origin);
  PITH_CHECK(v.is_string(), origin, ": \"", key, "\" must be a string");
  return v.get<std::string>();
}

double positive_number(const json& j, const char* key, const std::string& origin) {
  const json& v = field(j, key, origin);
  PITH_CHECK(v.is_number() && v.get<double>() > 0, origin, ": \"", key, "\" must be a positive number");
  return v.get<double>();
}

uint64_t bytes_field(const json& j, const char* key, const std::string& origin) {
  const json& v = field(j, key, origin);
  if (v.is_number_unsigned() && v.get<uint64_t>() > 0) return v.get<uint64_t>();
  PITH_CHECK(v.is_string(), origin, ": \"", key, "\" must be a size such as \"192 KiB\" or \"4 GiB\"");
  try {
    return parse_byte_size(v.get<std::string>());
  } catch (const Error& e) {
    fail(origin, ": \"", key, "\": ", e.what());
  }
}

}  // namespace

bool DeviceProfile::has(const std::string& feature) const {
  return std::find(isa.begin(), isa.end(), feature) != isa.end();
}

std::string DeviceProfile::resource_class() const {
  constexpr double kMB = 1e6;
  const double ram = double(ram_bytes);
  if (ram < 100 * kMB && clock_mhz < 500) return "ultra_low";
  if (ram < 1000 * kMB && clock_mhz < 1000) return "low";
  if (ram < 4000 * kMB && clock_mhz < 2000) return "medium";
  return "high";
}

uint64_t parse_byte_size(const std::string& text) {
  std::istringstream in(text);
  double value = 0;
  std::string unit;
  in >> value >> unit;
  std::string rest;
  in >> rest;
  PITH_CHECK(!in.bad() && value > 0 && rest.empty(), "'", text, "' is not a size (e.g. \"192 KiB\", \"4 GiB\")");
  static const std::map<std::string, double> units = {
      {"", 1},     {"B", 1},    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
      {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},     {"TB", 1e12},       {"TiB", 1099511627776.0}};
  auto it = units.find(unit);
  PITH_CHECK(it != units.end(), "'", text, "': unknown unit '", unit, "' (B, KiB, MiB, GiB, KB, MB, GB)");
  return uint64_t(value * it->second + 0.5);
}

DeviceProfile parse_profile(const std::string& json_text, const std::string& origin) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    fail(origin, ": not valid JSON: ", e.what());
  }
  PITH_CHECK(j.is_object(), origin, ": a profile must be a JSON object");
  DeviceProfile p;
  p.origin = origin;
  p.name = string_field(j, "name", origin);
  PITH_CHECK(!p.name.empty(), origin, ": \"name\" is empty");
  p.description = string_field(j, "description", origin);
  p.kind = string_field(j, "kind", origin);
  PITH_CHECK(p.kind == "linux" || p.kind == "mcu", origin, ": \"kind\" must be \"linux\" or \"mcu\", got \"", p.kind,
             "\"");
  p.ram_bytes = bytes_field(j, "ram", origin);
  p.storage_bytes = bytes_field(j, "storage", origin);
  const json& cores = field(j, "cores", origin);
  PITH_CHECK(cores.is_number_integer() && cores.get<int64_t>() >= 1 && cores.get<int64_t>() <= 1024, origin,
             ": \"cores\" must be an integer >= 1");
  p.cores = int(cores.get<int64_t>());
  p.clock_mhz = positive_number(j, "clock_mhz", origin);
  const json& isa = field(j, "isa", origin);
  PITH_CHECK(isa.is_array(), origin, ": \"isa\" must be a list of feature names");
  for (auto& f : isa) {
    PITH_CHECK(f.is_string(), origin, ": \"isa\" must be a list of feature names");
    p.isa.push_back(f.get<std::string>());
  }
  p.fp32_gflops_per_core = positive_number(j, "fp32_gflops_per_core", origin);
  p.int8_gops_per_core = positive_number(j, "int8_gops_per_core", origin);
  p.memory_bandwidth_gbs = positive_number(j, "memory_bandwidth_gbs", origin);
  p.power_w = positive_number(j, "power_w", origin);
  if (j.contains("sources")) {
    PITH_CHECK(j["sources"].is_object(), origin, ": \"sources\" must map figures to where they come from");
    for (auto& [k, v] : j["sources"].items()) p.sources[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return p;
}

nlohmann::ordered_json profile_json(const DeviceProfile& p) {
  return {{"name", p.name},
          {"description", p.description},
          {"kind", p.kind},
          {"resource_class", p.resource_class()},
          {"ram_bytes", p.ram_bytes},
          {"storage_bytes", p.storage_bytes},
          {"cores", p.cores},
          {"clock_mhz", p.clock_mhz},
          {"isa", p.isa},
          {"fp32_gflops_per_core", p.fp32_gflops_per_core},
          {"int8_gops_per_core", p.int8_gops_per_core},
          {"memory_bandwidth_gbs", p.memory_bandwidth_gbs},
          {"power_w", p.power_w},
          {"origin", p.origin},
          {"sources", p.sources}};
}

const std::vector<DeviceProfile>& builtin_profiles() {
  static const std::vector<DeviceProfile> profiles = [] {
    std::vector<DeviceProfile> out;
    for (auto& [file, text] : kBuiltinProfileFiles) {
      out.push_back(parse_profile(text, "built-in profile " + file));
      out.back().origin = "built-in";
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return out;
  }();
  return profiles;
}

DeviceProfile find_profile(const std::string& name_or_path) {
  namespace fs = std::filesystem;
  const bool looks_like_path = name_or_path.ends_with(".json") || name_or_path.find('/') != std::string::npos;
  if (looks_like_path || fs::is_regular_file(name_or_path)) {
    std::ifstream in(name_or_path, std::ios::binary);
    PITH_CHECK(in.good(), name_or_path, ": cannot read the profile file");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_profile(text.str(), name_or_path);
  }
  std::string names;
  for (auto& p : builtin_profiles()) {
    if (p.name == name_or_path) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  fail("unknown target profile '", name_or_path, "' (built-in: ", names,
       "; or give a profile file, path/to/device.json)");
}

}  // namespace pith::targets
