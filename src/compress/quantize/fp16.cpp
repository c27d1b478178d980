#include "compress/quantize/fp16.h"

#include "compress/weights.h"

namespace pith {

int64_t round_weights_to_fp16(Graph& g) {
  int64_t count = 0;
  for (const WeightLayout& l : weight_layers(g)) {
    Tensor w = g.initializers.at(l.weight).clone();
    float* d = w.data<float>();
    for (int64_t i = 0; i < w.numel(); ++i) d[i] = half_to_float(float_to_half(d[i]));
    g.initializers[l.weight] = w;
    count += w.numel();
  }
  return count;
}

}  // namespace pith
