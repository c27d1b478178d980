// Control flow: If, Loop and Scan (opset 8 with a batch axis, and opset 9+ with
// scan_input/output axes and directions). Bodies run through ctx.run_subgraph.
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

const Graph& graph_attr(const KernelContext& ctx, const char* name) {
  const Attribute* a = ctx.node().attr(name);
  KERNEL_CHECK(ctx, a && a->g, "the graph attribute '", name, "' is missing");
  return *a->g;
}

bool truth(const KernelContext& ctx, const Tensor& t, const char* what) {
  KERNEL_CHECK(ctx, t.defined() && t.numel() == 1, what, " must hold one value, got ",
               t.defined() ? shape_str(t.shape()) : std::string("nothing"));
  return t.as_double(0) != 0;
}

int64_t prod(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

// Stacks equally shaped tensors along a new axis `axis` (in [0, rank]); part t goes to
// position t (or n - 1 - t when reversed).
Tensor stack(const KernelContext& ctx, const std::vector<Tensor>& parts, int64_t axis, bool reverse, const char* what) {
  const Tensor& first = parts.front();
  const int64_t n = int64_t(parts.size());
  for (auto& p : parts)
    KERNEL_CHECK(ctx, p.shape() == first.shape() && p.dtype() == first.dtype(), what, " changes shape or type between ",
                 "iterations: ", shape_str(first.shape()), " vs ", shape_str(p.shape()));
  Shape shape = first.shape();
  shape.insert(shape.begin() + axis, n);
  Tensor out(first.dtype(), shape);
  const size_t es = dtype_size(first.dtype());
  const int64_t outer = prod(first.shape(), 0, size_t(axis));
  const size_t inner = size_t(prod(first.shape(), size_t(axis), first.shape().size())) * es;
  if (inner == 0) return out;
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t t = 0; t < n; ++t) {
    const int64_t at = reverse ? n - 1 - t : t;
    const auto* src = static_cast<const uint8_t*>(parts[size_t(t)].raw());
    for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + size_t(o * n + at) * inner, src + size_t(o) * inner, inner);
  }
  (void)ctx;
  return out;
}

// The idx-th slice of t along axis (the axis removed).
Tensor take(const Tensor& t, int64_t axis, int64_t idx) {
  Shape shape = t.shape();
  const int64_t n = shape[size_t(axis)];
  shape.erase(shape.begin() + axis);
  Tensor out(t.dtype(), shape);
  const size_t es = dtype_size(t.dtype());
  const int64_t outer = prod(t.shape(), 0, size_t(axis));
  const size_t inner = size_t(prod(t.shape(), size_t(axis) + 1, t.shape().size())) * es;
  if (inner == 0) return out;
  const auto* src = static_cast<const uint8_t*>(t.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + size_t(o) * inner, src + size_t(o * n + idx) * inner, inner);
  return out;
}

// An empty stack of a body output that never ran: [0] + its declared dimensions.
Tensor empty_stack(const ValueInfo& info, int64_t axis) {
  Shape shape;
  if (info.shape)
    for (auto& d : *info.shape) shape.push_back(d.known() ? d.value : 0);
  shape.insert(shape.begin() + std::min<int64_t>(axis, int64_t(shape.size())), 0);
  return Tensor(info.dtype == DType::Undefined ? DType::Float32 : info.dtype, shape);
}

struct ScanSpec {
  Shape in_axes, in_dirs, out_axes, out_dirs;
};

// Runs a Scan body over `scan_inputs`; returns the final states followed by the scan outputs.
std::vector<Tensor> scan_core(const KernelContext& ctx, const Graph& body, std::vector<Tensor> states,
                              const std::vector<Tensor>& scan_inputs, const ScanSpec& spec, size_t num_outputs) {
  const size_t n_state = states.size(), m = scan_inputs.size();
  KERNEL_CHECK(ctx, m >= 1, "Scan needs at least one scan input");
  KERNEL_CHECK(ctx, num_outputs >= n_state, "Scan has ", num_outputs, " outputs but ", n_state, " state variables");
  const size_t k_out = num_outputs - n_state;
  Shape axes(m);
  int64_t len = -1;
  for (size_t j = 0; j < m; ++j) {
    const Tensor& t = scan_inputs[j];
    int64_t a = j < spec.in_axes.size() ? spec.in_axes[j] : 0;
    KERNEL_CHECK(ctx, a >= -t.rank() && a < t.rank(), "scan input axis ", a, " is out of range for scan input ", j,
                 " of shape ", shape_str(t.shape()));
    if (a < 0) a += t.rank();
    axes[j] = a;
    const int64_t d = t.shape()[size_t(a)];
    KERNEL_CHECK(ctx, len < 0 || d == len, "scan inputs have different lengths (", len, " and ", d, ")");
    len = d;
  }
  KERNEL_CHECK(ctx, body.inputs.size() == n_state + m, "the body takes ", body.inputs.size(), " inputs, expected ",
               n_state + m);
  std::vector<std::vector<Tensor>> scans(k_out);
  std::vector<Tensor> in(n_state + m);
  for (int64_t t = 0; t < len; ++t) {
    for (size_t s = 0; s < n_state; ++s) in[s] = states[s];
    for (size_t j = 0; j < m; ++j) {
      const bool rev = j < spec.in_dirs.size() && spec.in_dirs[j] != 0;
      in[n_state + j] = take(scan_inputs[j], axes[j], rev ? len - 1 - t : t);
    }
    std::vector<Tensor> outs = ctx.run_subgraph(body, in);
    KERNEL_CHECK(ctx, outs.size() == n_state + k_out, "the body produced ", outs.size(), " outputs, expected ",
                 n_state + k_out);
    for (size_t s = 0; s < n_state; ++s) states[s] = outs[s];
    for (size_t k = 0; k < k_out; ++k) scans[k].push_back(outs[n_state + k]);
  }
  std::vector<Tensor> result = states;
  for (size_t k = 0; k < k_out; ++k) {
    int64_t a = k < spec.out_axes.size() ? spec.out_axes[k] : 0;
    const bool rev = k < spec.out_dirs.size() && spec.out_dirs[k] != 0;
    if (scans[k].empty()) {
      result.push_back(empty_stack(body.outputs[n_state + k], a < 0 ? 0 : a));
      continue;
    }
    const int64_t r = scans[k].front().rank() + 1;
    KERNEL_CHECK(ctx, a >= -r && a < r, "scan output axis ", a, " is out of range for rank ", r);
    if (a < 0) a += r;
    result.push_back(stack(ctx, scans[k], a, rev, "a scan output"));
  }
  return result;
}

}  // namespace

void kernel_if(KernelContext& ctx) {
  const bool cond = truth(ctx, ctx.input(0), "the condition");
  const Graph& branch = graph_attr(ctx, cond ? "then_branch" : "else_branch");
  std::vector<Tensor> outs = ctx.run_subgraph(branch, {});
  KERNEL_CHECK(ctx, outs.size() == ctx.num_outputs(), "the ", cond ? "then" : "else", " branch produced ", outs.size(),
               " outputs, the node has ", ctx.num_outputs());
  for (size_t i = 0; i < outs.size(); ++i) ctx.set_output(i, outs[i]);
}

void kernel_loop(KernelContext& ctx) {
  const Graph& body = graph_attr(ctx, "body");
  int64_t max_trip = INT64_MAX;
  if (ctx.has_input(0)) {
    const Tensor& m = ctx.input(0);
    KERNEL_CHECK(ctx, m.numel() == 1, "M must hold one value, got ", shape_str(m.shape()));
    max_trip = m.as_int64(0);
  }
  bool cond = ctx.has_input(1) ? truth(ctx, ctx.input(1), "cond") : true;
  const size_t n_in = ctx.node().inputs.size();
  const size_t n_carried = n_in > 2 ? n_in - 2 : 0;
  std::vector<Tensor> carried;
  for (size_t i = 0; i < n_carried; ++i) carried.push_back(ctx.input(2 + i));
  KERNEL_CHECK(ctx, ctx.num_outputs() >= n_carried, "the node has ", ctx.num_outputs(), " outputs for ", n_carried,
               " loop-carried values");
  const size_t k_out = ctx.num_outputs() - n_carried;
  KERNEL_CHECK(ctx, body.inputs.size() == 2 + n_carried, "the body takes ", body.inputs.size(), " inputs, expected ",
               2 + n_carried);
  KERNEL_CHECK(ctx, body.outputs.size() == 1 + n_carried + k_out, "the body has ", body.outputs.size(),
               " outputs, expected ", 1 + n_carried + k_out);
  std::vector<std::vector<Tensor>> scans(k_out);
  std::vector<Tensor> in(2 + n_carried);
  for (int64_t i = 0; i < max_trip && cond; ++i) {
    in[0] = Tensor::scalar<int64_t>(i);
    in[1] = Tensor::scalar<bool>(cond);
    for (size_t c = 0; c < n_carried; ++c) in[2 + c] = carried[c];
    std::vector<Tensor> outs = ctx.run_subgraph(body, in);
    KERNEL_CHECK(ctx, outs.size() == 1 + n_carried + k_out, "the body produced ", outs.size(), " outputs");
    cond = truth(ctx, outs[0], "the body's condition output");
    for (size_t c = 0; c < n_carried; ++c) carried[c] = outs[1 + c];
    for (size_t k = 0; k < k_out; ++k) scans[k].push_back(outs[1 + n_carried + k]);
  }
  for (size_t c = 0; c < n_carried; ++c) ctx.set_output(c, carried[c]);
  for (size_t k = 0; k < k_out; ++k) {
    if (!ctx.wants_output(n_carried + k)) continue;
    ctx.set_output(n_carried + k, scans[k].empty() ? empty_stack(body.outputs[1 + n_carried + k], 0)
                                                   : stack(ctx, scans[k], 0, false, "a scan output"));
  }
}

void kernel_scan(KernelContext& ctx) {
  const Graph& body = graph_attr(ctx, "body");
  const int64_t m = ctx.attr_int("num_scan_inputs", 0);
  KERNEL_CHECK(ctx, m >= 1, "num_scan_inputs must be positive, got ", m);
  const size_t n_in = ctx.node().inputs.size();
  if (ctx.opset() >= 9) {
    KERNEL_CHECK(ctx, int64_t(n_in) >= m, "the node has ", n_in, " inputs but num_scan_inputs is ", m);
    const size_t n_state = n_in - size_t(m);
    std::vector<Tensor> states, scan_inputs;
    for (size_t i = 0; i < n_in; ++i) (i < n_state ? states : scan_inputs).push_back(ctx.input(i));
    ScanSpec spec{ctx.attr_ints("scan_input_axes"), ctx.attr_ints("scan_input_directions"),
                  ctx.attr_ints("scan_output_axes"), ctx.attr_ints("scan_output_directions")};
    std::vector<Tensor> outs = scan_core(ctx, body, states, scan_inputs, spec, ctx.num_outputs());
    for (size_t i = 0; i < outs.size(); ++i) ctx.set_output(i, outs[i]);
    return;
  }
  // Opset 8: input 0 is the optional sequence_lens; every other input has a batch axis 0
  // and scan inputs scan along axis 1.
  KERNEL_CHECK(ctx, int64_t(n_in) >= m + 1, "the node has ", n_in, " inputs but num_scan_inputs is ", m);
  const size_t n_state = n_in - 1 - size_t(m);
  std::vector<Tensor> all;
  for (size_t i = 1; i < n_in; ++i) {
    all.push_back(ctx.input(i));
    KERNEL_CHECK(ctx, all.back().rank() >= 1, "input ", i, " has no batch axis");
  }
  const int64_t batch = all.front().shape()[0];
  for (auto& t : all) KERNEL_CHECK(ctx, t.shape()[0] == batch, "inputs have different batch sizes");
  if (ctx.has_input(0)) {
    Shape lens = ctx.input(0).to_int64_vector();
    for (size_t j = n_state; j < all.size(); ++j)
      for (int64_t l : lens)
        KERNEL_CHECK(ctx, all[j].rank() >= 2 && l == all[j].shape()[1],
                     "sequence_lens shorter than the scan inputs are not supported");
  }
  ScanSpec spec{{}, ctx.attr_ints("directions"), {}, {}};
  std::vector<std::vector<Tensor>> per_output(ctx.num_outputs());
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Tensor> states, scan_inputs;
    for (size_t i = 0; i < all.size(); ++i) (i < n_state ? states : scan_inputs).push_back(take(all[i], 0, b));
    std::vector<Tensor> outs = scan_core(ctx, body, states, scan_inputs, spec, ctx.num_outputs());
    for (size_t i = 0; i < outs.size(); ++i) per_output[i].push_back(outs[i]);
  }
  for (size_t i = 0; i < per_output.size(); ++i) {
    KERNEL_CHECK(ctx, !per_output[i].empty(), "Scan with batch size 0 is not supported");
    ctx.set_output(i, stack(ctx, per_output[i], 0, false, "a Scan output"));
  }
}

}  // namespace pith
