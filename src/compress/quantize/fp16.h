// fp16 weights: every weight (compress/weights.h) rounded to the nearest IEEE half, to
// nearest even. The graph stays float32, so every kernel runs as before; the .pith writer
// stores a float32 tensor whose values are all exact halves in 16 bits and widens it
// at load (src/artifact/pith.fbs), so the weights take half the space.
#pragma once

#include "ir/graph.h"

namespace pith {

// Rounds g's weights in place; returns how many weights it rounded.
int64_t round_weights_to_fp16(Graph& g);

}  // namespace pith
