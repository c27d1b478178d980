// Device profiles: every built-in file parses, names a source for every figure, and
// derives the resource class the rule says; bad files are Errors naming the field.
#include <gtest/gtest.h>

#include "core/error.h"
#include "targets/profile.h"

namespace pith::targets {
namespace {

TEST(Profiles, EveryBuiltInProfileIsCompleteAndSourced) {
  const auto& all = builtin_profiles();
  ASSERT_GE(all.size(), 11u);
  for (auto& p : all) {
    SCOPED_TRACE(p.name);
    EXPECT_FALSE(p.description.empty());
    EXPECT_GT(p.ram_bytes, 0u);
    EXPECT_GT(p.storage_bytes, 0u);
    EXPECT_GT(p.int8_gops_per_core, 0);
    EXPECT_GT(p.fp32_gflops_per_core, 0);
    for (auto figure : {"ram", "storage", "cores", "clock_mhz", "isa", "fp32_gflops_per_core", "int8_gops_per_core",
                        "memory_bandwidth_gbs", "power_w"})
      EXPECT_FALSE(p.sources.count(figure) == 0 || p.sources.at(figure).empty()) << "no source for " << figure;
    EXPECT_EQ(find_profile(p.name).name, p.name);
  }
}

TEST(Profiles, ResourceClassFollowsRamAndClock) {
  EXPECT_EQ(find_profile("cortex-m4").resource_class(), "ultra_low");
  EXPECT_EQ(find_profile("arduino-nano-33-ble-sense").resource_class(), "ultra_low");
  EXPECT_EQ(find_profile("raspberry-pi-5").resource_class(), "high");
  DeviceProfile p;
  p.ram_bytes = 512u << 20;
  p.clock_mhz = 800;
  EXPECT_EQ(p.resource_class(), "low");
  p.clock_mhz = 1200;
  EXPECT_EQ(p.resource_class(), "medium");
  p.ram_bytes = 8ull << 30;
  EXPECT_EQ(p.resource_class(), "high");
  EXPECT_TRUE(find_profile("cortex-m4").is_mcu());
  EXPECT_FALSE(find_profile("raspberry-pi-4").is_mcu());
}

TEST(Profiles, ByteSizesTakeBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_byte_size("192 KiB"), 192u * 1024);
  EXPECT_EQ(parse_byte_size("4 GiB"), 4ull << 30);
  EXPECT_EQ(parse_byte_size("32 GB"), 32000000000ull);
  EXPECT_EQ(parse_byte_size("1.5 MiB"), 1572864u);
  EXPECT_EQ(parse_byte_size("4096"), 4096u);
  EXPECT_THROW(parse_byte_size("lots"), Error);
  EXPECT_THROW(parse_byte_size("-1 KiB"), Error);
  EXPECT_THROW(parse_byte_size("3 furlongs"), Error);
  EXPECT_THROW(parse_byte_size("3 KiB extra"), Error);
}

TEST(Profiles, BadFilesNameTheField) {
  const std::string good = R"({"name": "x", "description": "d", "kind": "mcu", "ram": "64 KiB", "storage": "1 MiB",
    "cores": 1, "clock_mhz": 100, "isa": ["dsp"], "fp32_gflops_per_core": 0.1, "int8_gops_per_core": 0.2,
    "memory_bandwidth_gbs": 0.4, "power_w": 0.1})";
  EXPECT_EQ(parse_profile(good, "good.json").ram_bytes, 65536u);
  auto message = [](const std::string& text) {
    try {
      parse_profile(text, "p.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("[1, 2]").find("p.json: a profile must be a JSON object"), std::string::npos);
  EXPECT_NE(message("{oops").find("not valid JSON"), std::string::npos);
  std::string no_ram = good;
  no_ram.replace(no_ram.find("\"ram\""), 5, "\"rom\"");
  EXPECT_NE(message(no_ram).find("missing field \"ram\""), std::string::npos);
  std::string bad_kind = good;
  bad_kind.replace(bad_kind.find("\"mcu\""), 5, "\"fpga\"");
  EXPECT_NE(message(bad_kind).find("\"kind\" must be \"linux\" or \"mcu\""), std::string::npos);
  std::string zero_cores = good;
  zero_cores.replace(zero_cores.find("\"cores\": 1"), 10, "\"cores\": 0");
  EXPECT_NE(message(zero_cores).find("\"cores\" must be an integer >= 1"), std::string::npos);
  std::string negative = good;
  negative.replace(negative.find("\"power_w\": 0.1"), 14, "\"power_w\": -3");
  EXPECT_NE(message(negative).find("\"power_w\" must be a positive number"), std::string::npos);
  EXPECT_THROW(find_profile("no-such-device"), Error);
  EXPECT_THROW(find_profile("/nonexistent/device.json"), Error);
}

}  // namespace
}  // namespace pith::targets
