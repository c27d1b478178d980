#include "core/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace pith {

namespace {

DType dtype_from_descr(const std::string& d, const std::string& source) {
  PITH_CHECK(d.size() >= 2, source, ": unsupported dtype '", d, "'");
  char order = d[0];
  std::string code = d.substr(1);
  PITH_CHECK(order == '<' || order == '|' || order == '=' || (order == '>' && (code == "i1" || code == "u1" || code == "b1")),
             source, ": big-endian data ('", d, "') is not supported; save with a little-endian dtype");
  if (code == "f4") return DType::Float32;
  if (code == "f8") return DType::Float64;
  if (code == "f2") return DType::Float16;
  if (code == "i1") return DType::Int8;
  if (code == "u1") return DType::UInt8;
  if (code == "i2") return DType::Int16;
  if (code == "u2") return DType::UInt16;
  if (code == "i4") return DType::Int32;
  if (code == "u4") return DType::UInt32;
  if (code == "i8") return DType::Int64;
  if (code == "u8") return DType::UInt64;
  if (code == "b1") return DType::Bool;
  fail(source, ": unsupported dtype '", d, "'");
}

const char* descr_of(DType t) {
  switch (t) {
    case DType::Float32: return "<f4";
    case DType::Float64: return "<f8";
    case DType::Float16: return "<f2";
    case DType::Int8: return "|i1";
    case DType::UInt8: return "|u1";
    case DType::Int16: return "<i2";
    case DType::UInt16: return "<u2";
    case DType::Int32: return "<i4";
    case DType::UInt32: return "<u4";
    case DType::Int64: return "<i8";
    case DType::UInt64: return "<u8";
    case DType::Bool: return "|b1";
    default: fail("cannot write a ", dtype_name(t), " tensor as .npy");
  }
}

// Value of `'key': ...` in the header dict, up to the next top-level comma.
std::string dict_value(const std::string& header, const std::string& key, const std::string& source) {
  size_t k = header.find("'" + key + "'");
  PITH_CHECK(k != std::string::npos, source, ": .npy header has no '", key, "'");
  size_t colon = header.find(':', k);
  PITH_CHECK(colon != std::string::npos, source, ": malformed .npy header");
  size_t start = header.find_first_not_of(' ', colon + 1);
  PITH_CHECK(start != std::string::npos, source, ": malformed .npy header");
  if (header[start] == '(') {
    size_t end = header.find(')', start);
    PITH_CHECK(end != std::string::npos, source, ": malformed .npy shape");
    return header.substr(start, end - start + 1);
  }
  size_t end = header.find_first_of(",}", start);
  PITH_CHECK(end != std::string::npos, source, ": malformed .npy header");
  return header.substr(start, end - start);
}

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& source) {
  PITH_CHECK(bytes.size() >= 10 && std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0, source,
             ": not a .npy file (missing \\x93NUMPY magic)");
  uint8_t major = uint8_t(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8;
    header_start = 10;
  } else {
    PITH_CHECK(major == 2 || major == 3, source, ": unsupported .npy version ", int(major));
    PITH_CHECK(bytes.size() >= 12, source, ": truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    header_start = 12;
  }
  PITH_CHECK(bytes.size() >= header_start + header_len, source, ": truncated .npy header");
  std::string header = bytes.substr(header_start, header_len);
  std::string descr = dict_value(header, "descr", source);
  PITH_CHECK(descr.size() >= 2 && (descr.front() == '\'' || descr.front() == '"'), source,
             ": unsupported dtype ", descr, " (structured arrays are not supported)");
  descr = descr.substr(1, descr.size() - 2);
  DType dtype = dtype_from_descr(descr, source);
  std::string fortran = dict_value(header, "fortran_order", source);
  PITH_CHECK(fortran.find("False") != std::string::npos, source,
             ": Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
  std::string shape_text = dict_value(header, "shape", source);
  Shape shape;
  std::string num;
  for (char c : shape_text) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      num += c;
    } else if (!num.empty()) {
      shape.push_back(std::stoll(num));
      num.clear();
    }
  }
  Tensor t(dtype, shape);
  size_t data_start = header_start + header_len;
  PITH_CHECK(bytes.size() - data_start >= t.nbytes(), source, ": truncated .npy data (shape ",
             shape_str(shape), " of ", dtype_name(dtype), " needs ", t.nbytes(), " bytes, file has ",
             bytes.size() - data_start, ")");
  if (t.nbytes()) std::memcpy(t.raw(), bytes.data() + data_start, t.nbytes());
  if (dtype == DType::Bool) {
    for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = t.data<uint8_t>()[i] != 0;
  }
  return t;
}

Tensor read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  PITH_CHECK(f, path, ": cannot open file");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_npy(ss.str(), path);
}

std::string serialize_npy(const Tensor& t) {
  std::string dict = std::string("{'descr': '") + descr_of(t.dtype()) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.shape().size(); ++i) {
    dict += std::to_string(t.shape()[i]);
    if (t.shape().size() == 1 || i + 1 < t.shape().size()) dict += ",";
    if (i + 1 < t.shape().size()) dict += " ";
  }
  dict += "), }";
  // Pad so that data starts on a 64-byte boundary; header ends with '\n'.
  size_t total = 10 + dict.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  dict += std::string(pad, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(dict.size() & 0xff);
  out += char((dict.size() >> 8) & 0xff);
  out += dict;
  out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

void write_npy(const std::string& path, const Tensor& t) {
  std::string bytes = serialize_npy(t);
  std::ofstream f(path, std::ios::binary);
  PITH_CHECK(f, path, ": cannot open for writing");
  f.write(bytes.data(), std::streamsize(bytes.size()));
  PITH_CHECK(f.good(), path, ": write failed");
}

}  // namespace pith
