// Graph passes: rewrites of a verified, sorted Graph that keep its numerics (within
// float rounding) and the names of its inputs and outputs. Each pass lives in its own
// file, returns whether it changed anything, and leaves the graph sorted. Fused nodes
// are pith.FusedConv / pith.FusedGemm (runtime/kernels/activation.h documents their
// activation attributes). Passes rewrite the top-level graph only; values read by
// subgraphs (If/Loop/Scan bodies) are never renamed or removed.
#pragma once

#include "ir/graph.h"

namespace pith {

// Evaluates nodes whose inputs are all initializers (deterministic ops only) and turns
// their outputs into initializers; Shape/Size of values with fully known static shapes
// become constants first, so shape subgraphs (Shape->Gather->Concat->Reshape) fold.
bool fold_constants(Graph& g);

// Removes nodes none of whose outputs is read (or is a graph output), then unused
// initializers and stale value_info entries.
bool eliminate_dead_code(Graph& g);

// Rewires around Identity, inference Dropout, Cast to the same type, and
// Reshape/Flatten/Squeeze/Unsqueeze whose input and output static shapes are equal.
bool eliminate_identity(Graph& g);

// Conv (+ optional bias) followed by BatchNormalization (inference, all parameters
// initializers) -> one Conv with scaled weights and a new bias. Same for Gemm + BN.
bool fuse_conv_bn(Graph& g);

// MatMul(A 2-D, B 2-D initializer) + Add(bias initializer broadcast over the last dim)
// -> Gemm. MatMul with higher-rank A is left alone.
bool fuse_matmul_add(Graph& g);

// Conv/Gemm (or a fused node without activation) followed by Relu, Clip (constant
// bounds), LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh, x*Sigmoid(x) (SiLU) or
// x*HardSigmoid(x) with alpha 1/6, beta 1/2 (HardSwish) -> pith.FusedConv/FusedGemm.
bool fuse_activation(Graph& g);

// Conv (or FusedConv without activation or residual) whose output feeds only an Add
// with another tensor of the same static shape -> pith.FusedConv with Z.
bool fuse_residual_add(Graph& g);

// Transpose pairs whose permutations compose to the identity are removed, other
// consecutive Transposes become one, and identity Transposes disappear.
bool cancel_transposes(Graph& g);

// QDQ patterns (DequantizeLinear -> Conv/Gemm/MatMul [-> QuantizeLinear], DQ -> MaxPool/
// Flatten/Reshape/... -> Q with the same parameters, Q(DQ(x))) -> pith.QConv / pith.QGemm
// and int8 data movement; DQs of initializers left unread by int8 nodes are folded.
bool fuse_qdq(Graph& g);

// Runs the passes above to a fixed point, then verify_and_sort()s the graph.
void optimize(Graph& g);

}  // namespace pith
