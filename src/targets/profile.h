// Device profiles: what a target device offers (memory, storage, cores, clock, ISA features,
// sustained fp32/int8 throughput, memory bandwidth, power), read from JSON data files
// (src/targets/profiles/*.json, compiled into the binary; users add their own and pass a
// path). Every figure carries its source in the file. The deploy planner checks candidates
// against a profile's memory and storage and the cost model estimates latency and energy
// from its throughput figures.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pith::targets {

struct DeviceProfile {
  std::string name, description;
  std::string kind;  // "linux": runs a .pith with the pith runtime; "mcu": bare metal, weights in flash
  uint64_t ram_bytes = 0, storage_bytes = 0;
  int cores = 1;
  double clock_mhz = 0;
  std::vector<std::string> isa;
  double fp32_gflops_per_core = 0, int8_gops_per_core = 0;  // sustained, 1 MAC = 2 operations
  double memory_bandwidth_gbs = 0, power_w = 0;
  std::map<std::string, std::string> sources;  // figure -> where it comes from
  std::string origin;                          // "built-in" or the file it was read from

  bool is_mcu() const { return kind == "mcu"; }
  bool has(const std::string& feature) const;
  // ultra_low (< 100 MB RAM and < 500 MHz), low (< 1 GB, < 1 GHz), medium (< 4 GB, < 2 GHz),
  // else high: the lowest class whose two limits the device is under.
  std::string resource_class() const;
};

// Every field, the derived resource class and where it came from, as JSON (pith profiles
// --json, the deploy report).
nlohmann::ordered_json profile_json(const DeviceProfile& p);

// Parses one profile; an Error names `origin` and the field that is missing or wrong.
DeviceProfile parse_profile(const std::string& json_text, const std::string& origin);

// "192 KiB", "4 GiB", "32 GB", "1048576" -> bytes (binary and decimal units); Error otherwise.
uint64_t parse_byte_size(const std::string& text);

// The profiles compiled into pith, sorted by name.
const std::vector<DeviceProfile>& builtin_profiles();

// A profile by built-in name, or from a file when `name_or_path` ends in .json or names an
// existing file. Unknown names are an Error listing the built-in ones.
DeviceProfile find_profile(const std::string& name_or_path);

}  // namespace pith::targets
