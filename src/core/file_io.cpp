#include "core/file_io.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace pith {

void write_file_atomically(const std::string& path, std::initializer_list<std::string_view> pieces) {
  const std::string tmp = path + ".tmp";
  std::error_code ec;
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    PITH_CHECK(f, path, ": cannot write (", tmp, ")");
    for (std::string_view p : pieces) f.write(p.data(), std::streamsize(p.size()));
    f.close();
    if (!f) {
      std::filesystem::remove(tmp, ec);
      fail(path, ": write failed (disk full?)");
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    fail(path, ": cannot rename the temporary file into place");
  }
}

}  // namespace pith
