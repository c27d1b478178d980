// .npy files (NumPy format 1.0-3.0): little-endian, C order, numeric and bool dtypes.
// Errors name the file and what is wrong with it.
#pragma once

#include <string>

#include "core/tensor.h"

namespace pith {

Tensor read_npy(const std::string& path);
Tensor parse_npy(const std::string& bytes, const std::string& source);
void write_npy(const std::string& path, const Tensor& t);
std::string serialize_npy(const Tensor& t);

}  // namespace pith
