// Reading typed fields of a JSON recipe (the serving pipelines) with errors that name the
// recipe, the key, what was expected and what was found, e.g.
//   input pipeline: 'resize' must be "bilinear" or "area", got "cubic"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pith::serve {

// A JSON value as it appears in an error message, shortened so a huge array stays readable.
std::string shown(const nlohmann::json& v);
std::string in_quotes(const std::string& s);

class FieldReader {
 public:
  explicit FieldReader(const char* where) : where_(where) {}
  const char* where() const { return where_; }

  [[noreturn]] void bad_value(const char* key, const std::string& expected, const std::string& got) const;
  // Integers only: 224.0 is refused rather than guessed at. Values beyond int64 saturate so
  // the range check that follows reports them.
  int64_t read_int(const nlohmann::json& v, const char* key, const std::string& expected) const;
  float read_float(const nlohmann::json& v, const char* key, const std::string& expected) const;
  std::string read_string(const nlohmann::json& v, const char* key, const std::string& expected) const;
  bool read_bool(const nlohmann::json& v, const char* key) const;
  std::vector<float> read_floats(const nlohmann::json& v, const char* key, const std::string& expected) const;
  std::vector<std::string> read_strings(const nlohmann::json& v, const char* key) const;

 private:
  const char* where_;
};

}  // namespace pith::serve
