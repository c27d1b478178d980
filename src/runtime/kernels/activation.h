// Activations fused into a producing Conv/Gemm (pith.FusedConv, pith.FusedGemm).
// A fused node names its activation with the attributes `activation` (string),
// `activation_alpha` and `activation_beta` (floats):
//   ""            none
//   "Relu"        max(x, 0)
//   "Clip"        min(max(x, alpha), beta)         alpha = min, beta = max
//   "LeakyRelu"   x >= 0 ? x : alpha * x           alpha defaults to 0.01
//   "HardSigmoid" clamp(alpha * x + beta, 0, 1)    alpha 0.2, beta 0.5 by default
//   "HardSwish"   x * clamp(x / 6 + 0.5, 0, 1)
//   "Sigmoid"     1 / (1 + exp(-x))
//   "SiLU"        x * sigmoid(x)
//   "Tanh"        tanh(x)
// Reference and SIMD kernels share this header; keep it plain (no allocation, no tables).
#pragma once

#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "ir/graph.h"

namespace pith {

enum class ActivationKind { None, Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, SiLU, Tanh };

struct Activation {
  ActivationKind kind = ActivationKind::None;
  float alpha = 0;
  float beta = 0;
};

// The `activation` attribute's spelling of a kind ("" for None).
inline const char* activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::None: return "";
    case ActivationKind::Relu: return "Relu";
    case ActivationKind::Clip: return "Clip";
    case ActivationKind::LeakyRelu: return "LeakyRelu";
    case ActivationKind::HardSigmoid: return "HardSigmoid";
    case ActivationKind::HardSwish: return "HardSwish";
    case ActivationKind::Sigmoid: return "Sigmoid";
    case ActivationKind::SiLU: return "SiLU";
    case ActivationKind::Tanh: return "Tanh";
  }
  return "";
}

// Reads a fused node's activation attributes; an unknown name is an Error naming the node.
inline Activation activation_from_node(const Node& node) {
  const std::string name = node.attr_string("activation", "");
  Activation a;
  if (name.empty()) return a;
  if (name == "Relu") {
    a.kind = ActivationKind::Relu;
  } else if (name == "Clip") {
    a.kind = ActivationKind::Clip;
    a.alpha = node.attr_float("activation_alpha", -std::numeric_limits<float>::infinity());
    a.beta = node.attr_float("activation_beta", std::numeric_limits<float>::infinity());
    PITH_CHECK(!(a.alpha > a.beta), node.describe(), ": Clip activation has min ", a.alpha, " > max ", a.beta);
  } else if (name == "LeakyRelu") {
    a.kind = ActivationKind::LeakyRelu;
    a.alpha = node.attr_float("activation_alpha", 0.01f);
  } else if (name == "HardSigmoid") {
    a.kind = ActivationKind::HardSigmoid;
    a.alpha = node.attr_float("activation_alpha", 0.2f);
    a.beta = node.attr_float("activation_beta", 0.5f);
  } else if (name == "HardSwish") {
    a.kind = ActivationKind::HardSwish;
  } else if (name == "Sigmoid") {
    a.kind = ActivationKind::Sigmoid;
  } else if (name == "SiLU") {
    a.kind = ActivationKind::SiLU;
  } else if (name == "Tanh") {
    a.kind = ActivationKind::Tanh;
  } else {
    fail(node.describe(), ": unknown activation '", name,
         "' (expected one of \"\", Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, SiLU, Tanh)");
  }
  return a;
}

inline float activation_sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

inline float apply_activation(const Activation& a, float x) {
  switch (a.kind) {
    case ActivationKind::None: return x;
    case ActivationKind::Relu: return x > 0.0f ? x : 0.0f;
    case ActivationKind::Clip: return x < a.alpha ? a.alpha : (x > a.beta ? a.beta : x);
    case ActivationKind::LeakyRelu: return x >= 0.0f ? x : a.alpha * x;
    case ActivationKind::HardSigmoid: {
      const float r = a.alpha * x + a.beta;
      return r < 0.0f ? 0.0f : (r > 1.0f ? 1.0f : r);
    }
    case ActivationKind::HardSwish: {
      const float r = x / 6.0f + 0.5f;
      return x * (r < 0.0f ? 0.0f : (r > 1.0f ? 1.0f : r));
    }
    case ActivationKind::Sigmoid: return activation_sigmoid(x);
    case ActivationKind::SiLU: return x * activation_sigmoid(x);
    case ActivationKind::Tanh: return std::tanh(x);
  }
  return x;
}

}  // namespace pith
