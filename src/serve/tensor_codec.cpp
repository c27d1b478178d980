#include "serve/tensor_codec.h"

#include <cmath>
#include <limits>

namespace pith::serve {

namespace {

DType dtype_from_name(const std::string& name, const std::string& input) {
  static const DType kTypes[] = {DType::Float32, DType::Float64, DType::Float16, DType::Int8,
                                 DType::UInt8,   DType::Int16,   DType::UInt16,  DType::Int32,
                                 DType::UInt32,  DType::Int64,   DType::UInt64,  DType::Bool};
  for (DType t : kTypes)
    if (name == dtype_name(t)) return t;
  fail("input '", input, "': unknown dtype \"", name, "\" (float32, float16, float64, int8, uint8, int16, uint16, ",
       "int32, uint32, int64, uint64, bool)");
}

// Appends the numbers of a (possibly nested) array, recording the nesting as a shape.
void flatten(const nlohmann::json& j, size_t depth, Shape& shape, std::vector<double>& out, const std::string& input) {
  if (!j.is_array()) {
    PITH_CHECK(j.is_number() || j.is_boolean(), "input '", input, "': \"data\" holds ", j.type_name(),
               " where a number was expected");
    PITH_CHECK(depth == shape.size(), "input '", input, "': \"data\" is ragged (a number at depth ", depth,
               " where arrays of depth ", shape.size(), " were seen)");
    out.push_back(j.is_boolean() ? double(j.get<bool>()) : j.get<double>());
    return;
  }
  if (depth == shape.size()) {
    PITH_CHECK(out.empty(), "input '", input, "': \"data\" is ragged (an array where a number was expected)");
    shape.push_back(int64_t(j.size()));
  } else {
    PITH_CHECK(depth < shape.size() && shape[depth] == int64_t(j.size()), "input '", input,
               "': \"data\" is ragged (rows of different lengths at depth ", depth, ")");
  }
  for (auto& e : j) flatten(e, depth + 1, shape, out, input);
}

template <typename T>
void store(const std::vector<double>& v, Tensor& t, const std::string& input) {
  T* dst = t.data<T>();
  for (size_t i = 0; i < v.size(); ++i) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      PITH_CHECK(std::isfinite(v[i]) && v[i] == std::floor(v[i]) && v[i] >= double(std::numeric_limits<T>::lowest()) &&
                     v[i] <= double(std::numeric_limits<T>::max()),
                 "input '", input, "': element ", i, " (", v[i], ") is not a ", dtype_name(t.dtype()), " value");
    }
    dst[i] = T(v[i]);
  }
}

}  // namespace

Tensor tensor_from_json(const nlohmann::json& j, const ValueInfo& declared) {
  const std::string& input = declared.name;
  PITH_CHECK(j.is_object(), "input '", input, "': expected an object {\"dtype\", \"shape\", \"data\"}, got ",
             j.type_name());
  for (auto& [k, v] : j.items())
    PITH_CHECK(k == "dtype" || k == "shape" || k == "data", "input '", input, "': unknown key \"", k,
               "\" (expected dtype, shape, data)");
  PITH_CHECK(j.contains("data"), "input '", input, "': missing \"data\"");
  DType dtype = declared.dtype;
  if (j.contains("dtype")) {
    PITH_CHECK(j["dtype"].is_string(), "input '", input, "': \"dtype\" must be a string");
    dtype = dtype_from_name(j["dtype"].get<std::string>(), input);
  }
  PITH_CHECK(dtype != DType::Undefined, "input '", input, "': give \"dtype\" (the model does not declare it)");
  Shape nested;
  std::vector<double> values;
  flatten(j["data"], 0, nested, values, input);
  Shape shape;
  if (j.contains("shape")) {
    PITH_CHECK(j["shape"].is_array(), "input '", input, "': \"shape\" must be an array of sizes");
    for (auto& d : j["shape"]) {
      PITH_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0 && d.get<int64_t>() <= (int64_t(1) << 40), "input '",
                 input, "': \"shape\" entries must be sizes >= 0, got ", d.dump());
      shape.push_back(d.get<int64_t>());
    }
  } else if (nested.size() > 1 || !declared.shape) {
    shape = nested;  // nesting gives the shape (a flat list needs the declared one)
  } else {
    bool known = true;
    for (auto& d : *declared.shape) {
      known &= d.known();
      shape.push_back(d.value);
    }
    if (!known) shape = nested;
  }
  int64_t numel = 1;  // counted with an overflow guard: a shape from a client can be anything
  for (int64_t d : shape) {
    PITH_CHECK(d == 0 || numel <= int64_t(values.size()) / d, "input '", input, "': shape ", shape_str(shape),
               " holds more elements than \"data\" has (", values.size(), ")");
    numel *= d;
  }
  PITH_CHECK(numel == int64_t(values.size()), "input '", input, "': shape ", shape_str(shape), " holds ", numel,
             " elements but \"data\" has ", values.size());
  Tensor t(dtype, shape);
  switch (dtype) {
    case DType::Float32:
      store<float>(values, t, input);
      break;
    case DType::Float64:
      store<double>(values, t, input);
      break;
    case DType::Int8:
      store<int8_t>(values, t, input);
      break;
    case DType::UInt8:
      store<uint8_t>(values, t, input);
      break;
    case DType::Int16:
      store<int16_t>(values, t, input);
      break;
    case DType::UInt16:
      store<uint16_t>(values, t, input);
      break;
    case DType::Int32:
      store<int32_t>(values, t, input);
      break;
    case DType::UInt32:
      store<uint32_t>(values, t, input);
      break;
    case DType::Int64:
      store<int64_t>(values, t, input);
      break;
    case DType::UInt64:
      store<uint64_t>(values, t, input);
      break;
    case DType::Bool:
      store<bool>(values, t, input);
      break;
    case DType::Float16:
      for (size_t i = 0; i < values.size(); ++i) t.data<uint16_t>()[i] = float_to_half(float(values[i]));
      break;
    default:
      fail("input '", input, "': dtype ", dtype_name(dtype), " cannot be sent as JSON");
  }
  return t;
}

std::map<std::string, Tensor> inputs_from_json(const nlohmann::json& inputs, const std::vector<ValueInfo>& declared) {
  std::map<std::string, Tensor> out;
  if (inputs.is_array()) {
    PITH_CHECK(inputs.size() == declared.size(), "\"inputs\": the model takes ", declared.size(), " input(s), got ",
               inputs.size());
    for (size_t i = 0; i < declared.size(); ++i)
      out.emplace(declared[i].name, tensor_from_json(inputs[i], declared[i]));
    return out;
  }
  PITH_CHECK(inputs.is_object(), "\"inputs\" must be an object {name: tensor} or a list, got ", inputs.type_name());
  for (auto& [name, value] : inputs.items()) {
    const ValueInfo* info = nullptr;
    for (auto& d : declared)
      if (d.name == name) info = &d;
    if (!info) {
      std::string names;
      for (auto& d : declared) names += (names.empty() ? "'" : ", '") + d.name + "'";
      fail("unexpected input '", name, "'; the model's inputs are ", names);
    }
    out.emplace(name, tensor_from_json(value, *info));
  }
  return out;
}

}  // namespace pith::serve
