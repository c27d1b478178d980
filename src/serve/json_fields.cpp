#include "serve/json_fields.h"

#include <cstdint>

#include "core/error.h"

namespace pith::serve {

using nlohmann::json;

std::string shown(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

void FieldReader::bad_value(const char* key, const std::string& expected, const std::string& got) const {
  fail(where_, ": '", key, "' must be ", expected, ", got ", got);
}

int64_t FieldReader::read_int(const json& v, const char* key, const std::string& expected) const {
  if (!v.is_number_integer()) bad_value(key, expected, shown(v));
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) return INT64_MAX;
  return v.get<int64_t>();
}

float FieldReader::read_float(const json& v, const char* key, const std::string& expected) const {
  if (!v.is_number()) bad_value(key, expected, shown(v));
  return float(v.get<double>());
}

std::string FieldReader::read_string(const json& v, const char* key, const std::string& expected) const {
  if (!v.is_string()) bad_value(key, expected, shown(v));
  return v.get<std::string>();
}

bool FieldReader::read_bool(const json& v, const char* key) const {
  if (!v.is_boolean()) bad_value(key, "true or false", shown(v));
  return v.get<bool>();
}

std::vector<float> FieldReader::read_floats(const json& v, const char* key, const std::string& expected) const {
  if (!v.is_array()) bad_value(key, expected, shown(v));
  std::vector<float> out;
  for (const json& e : v) {
    if (!e.is_number()) bad_value(key, expected, shown(v));
    out.push_back(float(e.get<double>()));
  }
  return out;
}

std::vector<std::string> FieldReader::read_strings(const json& v, const char* key) const {
  const char* expected = "an array of strings";
  if (!v.is_array()) bad_value(key, expected, shown(v));
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) fail(where_, ": '", key, "' must be ", expected, ", got ", shown(v[i]), " at index ", i);
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

}  // namespace pith::serve
