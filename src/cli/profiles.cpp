// pith profiles [NAME|FILE.json] [--json]
// Lists the device profiles pith knows (src/targets/profiles), or shows one with the
// source of each figure.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "targets/profile.h"

namespace pith::cli {

namespace {

std::string size_text(uint64_t b) {
  char buf[32];
  if (b >= (uint64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.3g GiB", double(b) / double(1 << 30));
  else if (b >= (uint64_t(1) << 20))
    std::snprintf(buf, sizeof buf, "%.3g MiB", double(b) / double(1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.3g KiB", double(b) / 1024.0);
  return buf;
}

}  // namespace

int cmd_profiles(const std::vector<std::string>& argv) {
  Args args = Args::parse(argv, {}, {"json"});
  PITH_CHECK(args.positional.size() <= 1, "usage: pith profiles [NAME|FILE.json] [--json]");
  if (args.positional.size() == 1) {
    const targets::DeviceProfile p = targets::find_profile(args.positional[0]);
    if (args.flag("json")) {
      std::cout << targets::profile_json(p).dump(2) << "\n";
      return 0;
    }
    std::cout << p.name << ": " << p.description << "\n"
              << "  kind " << p.kind << ", class " << p.resource_class() << ", " << p.origin << "\n"
              << "  RAM " << size_text(p.ram_bytes) << ", storage " << size_text(p.storage_bytes) << ", " << p.cores
              << " core(s) at " << p.clock_mhz << " MHz\n  ISA";
    for (auto& f : p.isa) std::cout << " " << f;
    std::cout << "\n  sustained per core: " << p.fp32_gflops_per_core << " GFLOP/s fp32, " << p.int8_gops_per_core
              << " GOP/s int8; memory " << p.memory_bandwidth_gbs << " GB/s; power " << p.power_w << " W\n"
              << "sources\n";
    for (auto& [k, v] : p.sources) std::cout << "  " << k << ": " << v << "\n";
    return 0;
  }
  const auto& all = targets::builtin_profiles();
  if (args.flag("json")) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (auto& p : all) j.push_back(targets::profile_json(p));
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%-28s %-5s %-9s %10s %10s %5s %6s %9s %9s %7s %6s\n", "name", "kind", "class", "RAM", "storage", "cores",
              "MHz", "fp32 GF/s", "int8 GO/s", "GB/s", "W");
  for (auto& p : all)
    std::printf("%-28s %-5s %-9s %10s %10s %5d %6.0f %9.3g %9.3g %7.3g %6.3g\n", p.name.c_str(), p.kind.c_str(),
                p.resource_class().c_str(), size_text(p.ram_bytes).c_str(), size_text(p.storage_bytes).c_str(), p.cores,
                p.clock_mhz, p.fp32_gflops_per_core, p.int8_gops_per_core, p.memory_bandwidth_gbs, p.power_w);
  std::printf(
      "(per core, sustained; `pith profiles NAME` shows where each figure comes from; --target also takes "
      "a profile file)\n");
  return 0;
}

}  // namespace pith::cli
