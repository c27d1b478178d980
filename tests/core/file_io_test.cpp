// write_file_atomically: the whole content or nothing, never a stray temporary file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/file_io.h"

namespace pith {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

TEST(FileIo, WritesPiecesAndReplacesWholeFiles) {
  const fs::path dir = fs::temp_directory_path() / ("pith_file_io_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / "out.bin";
  write_file_atomically(p.string(), {"abc", std::string_view("\0d", 2), ""});
  EXPECT_EQ(slurp(p), std::string("abc\0d", 5));
  write_file_atomically(p.string(), {"new"});
  EXPECT_EQ(slurp(p), "new");
  EXPECT_FALSE(fs::exists(p.string() + ".tmp"));
}

TEST(FileIo, FailureLeavesNothingBehind) {
  const fs::path p = fs::temp_directory_path() / "pith_no_such_dir_for_test" / "out.bin";
  try {
    write_file_atomically(p.string(), {"x"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(p.string() + ".tmp"));
}

}  // namespace
}  // namespace pith
