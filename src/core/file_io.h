// Writing files so that a reader never sees half of one: the bytes go to PATH.tmp, which
// is renamed over PATH only once everything is written (rename is atomic on POSIX file
// systems). On any failure the temporary file is removed and an Error names the path.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace pith {

// Writes the pieces one after another as the whole content of path.
void write_file_atomically(const std::string& path, std::initializer_list<std::string_view> pieces);

}  // namespace pith
