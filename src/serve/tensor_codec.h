// Tensors from the JSON bodies of HTTP requests.
//   JSON: {"dtype": "float32", "shape": [1, 3], "data": [1, 2, 3]}; "data" may also be
//   nested arrays (the shape is then read from the nesting); "dtype" defaults to the
//   model's declared type and "shape" to its declared shape when that is fully known.
// Every problem is a pith::Error naming the input and what was expected.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

namespace pith::serve {

// One tensor from its JSON form; `declared` supplies defaults (name used in messages).
Tensor tensor_from_json(const nlohmann::json& j, const ValueInfo& declared);

// {"inputs": {NAME: tensor, ...}} (or a list in the model's input order).
std::map<std::string, Tensor> inputs_from_json(const nlohmann::json& inputs, const std::vector<ValueInfo>& declared);

}  // namespace pith::serve
