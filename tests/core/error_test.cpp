// Error messages (core/error.h) read as std::ostream would print their parts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace pith {

template <typename... Parts>
std::string streamed(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

TEST(ErrorMessage, FormatsEveryPartAsAStreamWould) {
  const std::string s = "name";
  const std::filesystem::path path = "/tmp/a b";
  const int64_t big = std::numeric_limits<int64_t>::min();
  const uint64_t ubig = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(detail::concat("node '", s, "': ", 3, " of ", size_t(7), ' ', -2.5, " ", 1e-7f, " ", true),
            streamed("node '", s, "': ", 3, " of ", size_t(7), ' ', -2.5, " ", 1e-7f, " ", true));
  EXPECT_EQ(detail::concat(big, ubig, 123456789.0, 0.1, std::nan(""), -INFINITY, int8_t(65), uint8_t(66)),
            streamed(big, ubig, 123456789.0, 0.1, std::nan(""), -INFINITY, int8_t(65), uint8_t(66)));
  EXPECT_EQ(detail::concat(path, std::string_view("view"), short(-3), uint16_t(65535)),
            streamed(path, std::string_view("view"), short(-3), uint16_t(65535)));
}

TEST(ErrorMessage, FailThrowsAPithErrorWithTheMessage) {
  try {
    fail("expected ", 4, " inputs, got ", 2.0);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "expected 4 inputs, got 2");
  }
}

}  // namespace pith
