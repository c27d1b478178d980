#include "deploy/candidates.h"

namespace pith::deploy {

namespace {

Recipe pruned(double sparsity) {
  Recipe r;
  r.prune = true;
  r.pruning.sparsity = sparsity;
  r.pruning.allocation = "erk";  // large layers pruned hardest, small ones kept denser
  return r;
}

}  // namespace

std::vector<CandidateSpec> first_round() {
  std::vector<CandidateSpec> out;
  out.push_back({Recipe{}, "the uncompressed model: the baseline every ratio is against"});
  Recipe fp16;
  fp16.quantize = "fp16";
  out.push_back({fp16, "weights stored in 16 bits, computed in fp32: half the size, no accuracy risk"});
  {
    Recipe int8;
    int8.quantize = "int8";
    out.push_back({int8, "int8 weights and activations run by the int8 kernels: 4x smaller weights"});
    int8.entropy = true;
    out.push_back({int8, "int8 with its tensors zstd-coded (decoded at load)"});
  }
  for (int64_t block : {32, 128}) {
    Recipe int4;
    int4.quantize = "int4";
    int4.block = block;
    int4.entropy = true;  // 4-bit codes barely compress, but the model description does
    out.push_back({int4, std::string("4-bit weights in blocks of ") + std::to_string(block) +
                             " (GPTQ), computed in fp32; zstd-coded"});
  }
  Recipe low_rank;
  low_rank.low_rank = 0.9;
  out.push_back({low_rank, "truncated SVD keeping 90 % of each layer's energy, where that shrinks it"});
  {
    low_rank.quantize = "int8";
    low_rank.entropy = true;
    out.push_back({low_rank, "the factorized layers, then int8 and zstd"});
  }
  for (int k : {16, 8}) {
    Recipe c;
    c.cluster = k;
    c.entropy = true;
    out.push_back({c, std::to_string(k) + " shared values per layer (k-means), indices zstd-coded"});
  }
  // The same sparsities for int8 and clustering: the planner prunes once per sparsity.
  for (double s : {0.5, 0.75, 0.9}) {
    Recipe r = pruned(s);
    r.quantize = "int8";
    r.entropy = true;
    out.push_back({r, "pruned (data-aware, refitted) then int8; the zeros cost little after zstd"});
  }
  for (double s : {0.5, 0.75, 0.9}) {
    Recipe r = pruned(s);
    r.cluster = 16;
    r.entropy = true;
    out.push_back({r, "data-aware pruning, 16 shared values per layer, zstd: the smallest float forms"});
  }
  return out;
}

}  // namespace pith::deploy
