#include "runtime/session.h"

#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <unordered_map>

#include "ir/verify.h"
#include "runtime/kernels/simd/scratch.h"
#include "runtime/memory/planner.h"

namespace pith {

struct Session::Plan {
  const Graph* graph = nullptr;
  std::vector<KernelFn> kernels;               // per node
  std::vector<std::vector<int>> node_inputs;   // slot per input, -1 when omitted
  std::vector<std::vector<int>> node_outputs;  // slot per output, -1 when unnamed
  std::vector<std::vector<int>> node_frees;    // slots whose last reader is this node
  std::vector<std::pair<int, const Tensor*>> initializers;
  std::vector<int> input_slots, output_slots;
  std::vector<std::pair<int, std::string>> outer;  // slots filled from the enclosing scope
  size_t num_slots = 0;
  mutable std::vector<std::shared_ptr<void>> node_state;  // kernels' per-node state (packed weights)
  std::vector<uint64_t> constant_inputs;                  // per node: bit i = input i is an initializer
  std::vector<int64_t> last_use;                          // per slot: last node reading it (outputs: #nodes)
  std::vector<bool> owned;                                // per slot: written by a node of this graph
  std::unordered_map<std::string, int> names;             // every named slot (for subgraphs reading this scope)
  // A run's working set, kept between runs so that running allocates nothing: the value
  // of every slot, where each slot's tensor is (initializers are read where they lie),
  // each node's input list and its outputs.
  mutable std::vector<Tensor> values;
  std::vector<const Tensor*> slot_tensor;
  std::vector<std::vector<const Tensor*>> node_input_tensors;
  mutable std::vector<std::vector<Tensor>> node_output_tensors;
};

namespace {

void collect_unsupported(const Graph& g, std::vector<UnsupportedOp>& out) {
  for (auto& node : g.nodes) {
    if (!find_kernel(node.domain, node.op_type)) {
      auto it = g.domain_opsets.find(node.domain);
      out.push_back({node.op_type, node.domain, node.name, it != g.domain_opsets.end() ? it->second : g.opset});
    }
    for (auto& [k, a] : node.attributes) {
      if (a.g) collect_unsupported(*a.g, out);
      for (auto& sub : a.graphs) collect_unsupported(*sub, out);
    }
  }
}

// Symbolic dimensions bound so far by one run's inputs: a few per model, kept in place
// (checking inputs allocates nothing).
class DimBindings {
 public:
  // The value `param` is bound to, binding it to `value` if it is new. `param` must
  // outlive the bindings (it is the graph's).
  int64_t bind(const std::string& param, int64_t value) {
    for (size_t i = 0; i < fixed_count_; ++i)
      if (*fixed_[i].first == param) return fixed_[i].second;
    for (auto& [p, v] : more_)
      if (*p == param) return v;
    if (fixed_count_ < kFixed)
      fixed_[fixed_count_++] = {&param, value};
    else
      more_.push_back({&param, value});
    return value;
  }

 private:
  static constexpr size_t kFixed = 8;
  std::pair<const std::string*, int64_t> fixed_[kFixed];
  size_t fixed_count_ = 0;
  std::vector<std::pair<const std::string*, int64_t>> more_;
};

void check_input(const ValueInfo& info, const Tensor& t, DimBindings& bound) {
  PITH_CHECK(t.dtype() == info.dtype || info.dtype == DType::Undefined, "input '", info.name,
             "': expected element type ", dtype_name(info.dtype), ", got ", dtype_name(t.dtype()));
  if (!info.shape) return;
  auto& dims = *info.shape;
  auto expected = [&] {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
      if (i) s += ", ";
      s += dims[i].known() ? std::to_string(dims[i].value) : (dims[i].param.empty() ? "?" : dims[i].param);
    }
    return s + "]";
  };
  PITH_CHECK(t.rank() == int64_t(dims.size()), "input '", info.name, "': expected shape ", expected(), " (rank ",
             dims.size(), "), got ", shape_str(t.shape()));
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t got = t.shape()[i];
    if (dims[i].known()) {
      PITH_CHECK(got == dims[i].value, "input '", info.name, "': expected shape ", expected(), ", got ",
                 shape_str(t.shape()), " (dimension ", i, ")");
    } else if (!dims[i].param.empty()) {
      const int64_t earlier = bound.bind(dims[i].param, got);
      PITH_CHECK(earlier == got, "input '", info.name, "': dimension '", dims[i].param, "' is ", got, " here but ",
                 earlier, " in another input");
    }
  }
}

}  // namespace

std::vector<UnsupportedOp> find_unsupported_ops(const Graph& g) {
  std::vector<UnsupportedOp> out;
  collect_unsupported(g, out);
  return out;
}

static void build_plans(const Graph& g, std::map<const Graph*, std::unique_ptr<Session::Plan>>& plans) {
  auto plan = std::make_unique<Session::Plan>();
  plan->graph = &g;
  std::unordered_map<std::string, int> slot;
  auto slot_of = [&](const std::string& name) {
    auto [it, fresh] = slot.emplace(name, int(slot.size()));
    return it->second;
  };
  for (auto& v : g.inputs) plan->input_slots.push_back(slot_of(v.name));
  for (auto& [name, t] : g.initializers) plan->initializers.push_back({slot_of(name), &t});
  for (auto& name : outer_scope_names(g)) {
    if (!slot.count(name)) plan->outer.push_back({slot_of(name), name});
  }
  std::vector<int> last_reader;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    auto& node = g.nodes[n];
    plan->kernels.push_back(find_kernel(node.domain, node.op_type));
    std::vector<int> ins, outs;
    for (auto& in : node.inputs) ins.push_back(in.empty() ? -1 : slot_of(in));
    for (auto& out : node.outputs) outs.push_back(out.empty() ? -1 : slot_of(out));
    plan->node_inputs.push_back(ins);
    plan->node_outputs.push_back(outs);
    for (auto& [k, a] : node.attributes) {
      if (a.g) build_plans(*a.g, plans);
      for (auto& sub : a.graphs) build_plans(*sub, plans);
    }
  }
  for (auto& v : g.outputs) plan->output_slots.push_back(slot_of(v.name));
  plan->num_slots = slot.size();
  plan->node_state.resize(g.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    uint64_t mask = 0;
    for (size_t i = 0; i < g.nodes[n].inputs.size() && i < 64; ++i)
      if (g.initializers.count(g.nodes[n].inputs[i])) mask |= uint64_t(1) << i;
    plan->constant_inputs.push_back(mask);
  }
  // Lifetimes: free each intermediate after its last reader (outputs and inputs kept).
  std::vector<int> last(plan->num_slots, -1);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    for (int s : plan->node_inputs[n])
      if (s >= 0) last[size_t(s)] = int(n);
    for (auto& [k, a] : g.nodes[n].attributes) {
      std::vector<std::shared_ptr<Graph>> subs = a.graphs;
      if (a.g) subs.push_back(a.g);
      for (auto& sub : subs)
        for (auto& name : outer_scope_names(*sub))
          if (slot.count(name)) last[size_t(slot[name])] = int(n);
    }
  }
  plan->last_use.assign(last.begin(), last.end());
  for (int s : plan->output_slots) plan->last_use[size_t(s)] = int64_t(g.nodes.size());
  for (int s : plan->output_slots) last[size_t(s)] = -1;
  plan->node_frees.resize(g.nodes.size());
  for (size_t s = 0; s < last.size(); ++s)
    if (last[s] >= 0) plan->node_frees[size_t(last[s])].push_back(int(s));
  plan->owned.assign(plan->num_slots, true);
  for (int i : plan->input_slots) plan->owned[size_t(i)] = false;
  for (auto& [i, t] : plan->initializers) plan->owned[size_t(i)] = false;
  for (auto& [i, name] : plan->outer) plan->owned[size_t(i)] = false;
  plan->names = std::move(slot);
  plan->values.resize(plan->num_slots);
  for (size_t i = 0; i < plan->num_slots; ++i) plan->slot_tensor.push_back(&plan->values[i]);
  for (auto& [i, t] : plan->initializers) plan->slot_tensor[size_t(i)] = t;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    std::vector<const Tensor*> ins;
    for (int i : plan->node_inputs[n]) ins.push_back(i >= 0 ? plan->slot_tensor[size_t(i)] : nullptr);
    plan->node_input_tensors.push_back(std::move(ins));
    plan->node_output_tensors.emplace_back(g.nodes[n].outputs.size());
  }
  plans[&g] = std::move(plan);
}

Session::Session(std::shared_ptr<const Graph> graph, SessionOptions options)
    : graph_(std::move(graph)), options_(options) {
  auto order = topological_order(*graph_);
  for (size_t i = 0; i < order.size(); ++i)
    PITH_CHECK(order[i] == i, "graph nodes are not in execution order; verify_and_sort() it first");
  auto unsupported = find_unsupported_ops(*graph_);
  if (!unsupported.empty()) {
    std::string msg =
        std::to_string(unsupported.size()) + " unsupported operator" + (unsupported.size() > 1 ? "s" : "") + ":";
    for (auto& u : unsupported) {
      msg += "\n  " + (u.domain.empty() ? "" : u.domain + ".") + u.op_type + " (node '" + u.node_name + "', opset " +
             std::to_string(u.opset) + ")";
    }
    throw Error(msg);
  }
  build_plans(*graph_, plans_);
  PITH_CHECK(options_.threads >= 1, "threads must be at least 1, got ", options_.threads);
  // One thread too: with no workers the pool runs loops inline, and cuts them in chunks
  // when a run has a deadline (RunControl).
  pool_ = std::make_unique<ThreadPool>(options_.threads);
}

Session::~Session() = default;

// The planned arena of the top-level graph, and the recording that plans it.
struct Session::Arena {
  struct Slot {
    size_t offset = 0, bytes = 0;
    bool planned = false;
    // Part of an in-place Concat (its output or an input placed in it): used only at the
    // planned size. Smaller, the Concat's ranges would no longer be where its inputs lie,
    // and its copies could overwrite inputs still to be read.
    bool exact = false;
  };
  struct Buffer {
    size_t bytes;
    int64_t first, last;
    const char* ptr;
    int64_t parent = -1;  // placed inside that buffer (an in-place Concat's output), at parent_offset
    size_t parent_offset = 0;
  };
  bool active = false;     // runs place planned outputs in `block`
  bool recording = false;  // this run records buffers to plan from
  bool mismatch = false;   // an output did not fit its planned slot this run
  std::shared_ptr<void> block;
  std::vector<std::vector<Slot>> slots;         // per node, per output
  std::vector<Buffer> buffers;                  // recorded this run
  std::map<const char*, size_t> by_address;     // buffer start -> index (recording)
  std::vector<std::vector<int64_t>> buffer_of;  // per node, per output: recorded buffer or -1
  size_t arena_bytes = 0, lower_bound = 0;

  void start_run(const Graph& g) {
    mismatch = false;
    recording = !active;
    if (recording) {
      buffers.clear();
      by_address.clear();
      buffer_of.assign(g.nodes.size(), {});
      for (size_t n = 0; n < g.nodes.size(); ++n) buffer_of[n].assign(g.nodes[n].outputs.size(), -1);
    }
  }

  // The recorded buffer whose bytes contain `p`, if any.
  Buffer* containing(const void* p) {
    auto it = by_address.upper_bound(static_cast<const char*>(p));
    if (it == by_address.begin()) return nullptr;
    --it;
    Buffer& b = buffers[it->second];
    const char* c = static_cast<const char*>(p);
    return c >= b.ptr && c < b.ptr + std::max<size_t>(b.bytes, 1) ? &b : nullptr;
  }

  // A Concat whose inputs are consecutive byte ranges of its output (every dimension
  // before the axis is 1, as in NCHW channel concatenations of one image): each input
  // that is a whole recorded buffer of its own is placed inside the output's buffer at
  // its range, so that its producer writes it there and the Concat finds it in place
  // (kernel_concat skips such inputs). Inputs at offsets that are not 64-byte aligned
  // keep their own buffers, like repeated inputs and inputs of an earlier Concat.
  void place_concat_inputs(const std::vector<const Tensor*>& inputs, const Tensor& output, int64_t axis) {
    if (axis < 0) axis += output.rank();
    if (axis < 0 || axis >= output.rank()) return;
    for (int64_t d = 0; d < axis; ++d)
      if (output.shape()[size_t(d)] != 1) return;
    Buffer* out = containing(output.raw());
    if (!out || out->ptr != output.raw() || out->bytes != output.nbytes()) return;
    const int64_t out_index = out - buffers.data();
    size_t offset = 0;
    for (const Tensor* t : inputs) {
      const size_t bytes = t ? t->nbytes() : 0;
      Buffer* in = bytes ? containing(t->raw()) : nullptr;
      if (in && in != out && in->ptr == t->raw() && in->bytes == bytes && in->parent < 0 && offset % 64 == 0) {
        in->parent = out_index;
        in->parent_offset = offset;
      }
      offset += bytes;
    }
  }

  void finish_run() {
    if (mismatch) {  // shapes changed: record and re-plan on the next run
      active = false;
      return;
    }
    if (!recording) return;
    recording = false;
    // Buffers placed inside others (nested Concats too) are planned as part of their
    // outermost buffer, which lives from the first of them written to the last read.
    std::vector<size_t> root_offset(buffers.size(), 0);
    std::vector<int64_t> root(buffers.size());
    for (size_t i = 0; i < buffers.size(); ++i) {
      int64_t r = int64_t(i);
      while (buffers[size_t(r)].parent >= 0) {
        root_offset[i] += buffers[size_t(r)].parent_offset;
        r = buffers[size_t(r)].parent;
      }
      root[i] = r;
    }
    std::vector<bool> in_group(buffers.size(), false);
    for (size_t i = 0; i < buffers.size(); ++i) {
      if (root[i] == int64_t(i)) continue;
      Buffer& r = buffers[size_t(root[i])];
      r.first = std::min(r.first, buffers[i].first);
      r.last = std::max(r.last, buffers[i].last);
      in_group[i] = in_group[size_t(root[i])] = true;
    }
    std::vector<BufferLifetime> lifetimes;
    std::vector<size_t> planned_index(buffers.size(), 0);
    for (size_t i = 0; i < buffers.size(); ++i) {
      if (root[i] != int64_t(i)) continue;
      planned_index[i] = lifetimes.size();
      lifetimes.push_back({buffers[i].bytes, buffers[i].first, buffers[i].last});
    }
    MemoryPlan plan = plan_memory(lifetimes);
    arena_bytes = plan.arena_bytes;
    lower_bound = plan.lower_bound;
    size_t bytes = std::max<size_t>(64, (arena_bytes + 63) / 64 * 64);
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    block = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
    slots.assign(buffer_of.size(), {});
    for (size_t n = 0; n < buffer_of.size(); ++n) {
      slots[n].assign(buffer_of[n].size(), Slot{});
      for (size_t o = 0; o < buffer_of[n].size(); ++o) {
        int64_t b = buffer_of[n][o];
        if (b < 0) continue;
        const size_t offset = plan.offsets[planned_index[size_t(root[size_t(b)])]] + root_offset[size_t(b)];
        slots[n][o] = {offset, buffers[size_t(b)].bytes, true, in_group[size_t(b)]};
      }
    }
    buffers.clear();
    by_address.clear();
    active = true;
  }
};

namespace {

// Allocates one top-level node's outputs: from the arena when planned, else the heap
// (recording them when the Session is planning).
class NodeAllocator : public OutputAllocator {
 public:
  NodeAllocator(Session::Arena& arena, size_t node) : arena_(arena), node_(node) {}
  Tensor allocate(size_t output, DType dtype, Shape shape, bool zero_fill) override {
    const size_t bytes = size_t(shape_numel(shape)) * dtype_size(dtype);
    if (arena_.active) {
      auto& slots = arena_.slots[node_];
      const Session::Arena::Slot* slot = output < slots.size() && slots[output].planned ? &slots[output] : nullptr;
      if (slot && (slot->exact ? bytes == slot->bytes : bytes <= slot->bytes)) {
        char* p = static_cast<char*>(arena_.block.get()) + slots[output].offset;
        if (zero_fill && bytes) std::memset(p, 0, bytes);
        return Tensor::view(dtype, std::move(shape), p, arena_.block);
      }
      arena_.mismatch = true;
    }
    Tensor t(dtype, std::move(shape));
    if (arena_.recording && output < arena_.buffer_of[node_].size()) {
      size_t index = arena_.buffers.size();
      arena_.buffers.push_back({bytes, int64_t(node_), int64_t(node_), static_cast<const char*>(t.raw())});
      arena_.by_address[static_cast<const char*>(t.raw())] = index;
      arena_.buffer_of[node_][output] = int64_t(index);
    }
    return t;
  }

 private:
  Session::Arena& arena_;
  size_t node_;
};

struct Runner {
  const std::map<const Graph*, std::unique_ptr<Session::Plan>>& plans;
  RunStats* stats = nullptr;  // filled for the top-level graph only
  ThreadPool* pool = nullptr;
  bool profile = false;
  Session::Arena* arena = nullptr;  // top-level graph only
  const RunControl* control = nullptr;

  // Outer-scope lookup for a subgraph: the enclosing run's frame.
  struct Frame {
    const Session::Plan* plan;
    const Frame* outer;
    const Tensor* find(const std::string& name) const {
      auto it = plan->names.find(name);
      if (it != plan->names.end()) {
        const Tensor* t = plan->slot_tensor[size_t(it->second)];
        if (t->defined()) return t;
      }
      return outer ? outer->find(name) : nullptr;
    }
  };

  // Runs g on `inputs` (in the order of g.inputs) and writes its outputs into `outputs`.
  void run(const Graph& g, const Tensor* inputs, size_t num_inputs, std::vector<Tensor>& outputs, const Frame* outer) {
    const Session::Plan& plan = *plans.at(&g);
    std::vector<Tensor>& values = plan.values;
    // Whatever happens, the run's values are released at the end (kept, they would pin
    // heap buffers and the arena's views until the next run).
    struct Release {
      std::vector<Tensor>& values;
      ~Release() {
        for (auto& v : values) v = Tensor();
      }
    } release{values};
    for (auto& [s, name] : plan.outer) {
      const Tensor* t = outer ? outer->find(name) : nullptr;
      PITH_CHECK(t, "subgraph '", g.name, "' reads '", name, "', which is not available");
      values[size_t(s)] = *t;
    }
    size_t n_in = std::min(num_inputs, plan.input_slots.size());
    for (size_t i = 0; i < n_in; ++i) values[size_t(plan.input_slots[i])] = inputs[i];

    const Frame frame{&plan, outer};
    SubgraphRunner sub = [this, &frame](const Graph& body, const std::vector<Tensor>& body_inputs) {
      std::vector<Tensor> body_outputs;
      run(body, body_inputs.data(), body_inputs.size(), body_outputs, &frame);
      return body_outputs;
    };

    RunStats* top_stats = stats;
    stats = nullptr;
    Session::Arena* top_arena = arena;
    arena = nullptr;
    size_t live = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
      check_run_control(control);
      const Node& node = g.nodes[n];
      std::vector<Tensor>& outs = plan.node_output_tensors[n];
      auto it = g.domain_opsets.find(node.domain);
      int64_t opset = it != g.domain_opsets.end() ? it->second : g.opset;
      KernelContext ctx(node, opset, plan.node_input_tensors[n], outs, &sub, pool, &plan.node_state[n]);
      ctx.set_constant_inputs(plan.constant_inputs[n]);
      std::optional<NodeAllocator> allocator;
      if (top_arena) {
        allocator.emplace(*top_arena, n);
        ctx.set_allocator(&*allocator);
      }
      try {
        if (top_stats && profile) {
          auto t0 = std::chrono::steady_clock::now();
          plan.kernels[n](ctx);
          top_stats->node_ms[n] +=
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        } else {
          plan.kernels[n](ctx);
        }
      } catch (const Interrupted&) {
        for (auto& o : outs) o = Tensor();
        throw;
      } catch (const Error& e) {
        for (auto& o : outs) o = Tensor();
        std::string what = e.what();
        if (what.rfind(node.describe(), 0) == 0) throw;
        throw Error(node.describe() + ": " + what);
      }
      if (top_arena && top_arena->recording && node.op_type == "Concat" && node.domain.empty() && outs.size() == 1 &&
          outs[0].defined()) {
        top_arena->place_concat_inputs(plan.node_input_tensors[n], outs[0], ctx.attr_int("axis", opset < 4 ? 1 : 0));
      }
      for (size_t o = 0; o < outs.size(); ++o) {
        int s = plan.node_outputs[n][o];
        if (s < 0) {
          outs[o] = Tensor();
          continue;
        }
        if (!outs[o].defined()) ctx.fail("output ", o, " ('", node.outputs[o], "') was not produced");
        live += outs[o].nbytes();
        if (top_arena && top_arena->recording && outs[o].nbytes()) {
          // Whatever buffer this value lives in (its own or one it aliases) must
          // survive until the value's last reader.
          if (auto* b = top_arena->containing(outs[o].raw())) b->last = std::max(b->last, plan.last_use[size_t(s)]);
        }
        values[size_t(s)] = std::move(outs[o]);
        outs[o] = Tensor();  // a moved-from tensor keeps its type: reset, the next run checks it was produced
      }
      if (top_stats) top_stats->peak_activation_bytes = std::max(top_stats->peak_activation_bytes, live);
      for (int s : plan.node_frees[n]) {
        if (values[size_t(s)].defined() && plan.owned[size_t(s)]) live -= values[size_t(s)].nbytes();
        values[size_t(s)] = Tensor();
      }
    }
    outputs.resize(plan.output_slots.size());
    for (size_t o = 0; o < plan.output_slots.size(); ++o) outputs[o] = *plan.slot_tensor[size_t(plan.output_slots[o])];
  }
};

}  // namespace

std::vector<Tensor> Session::run(const std::map<std::string, Tensor>& inputs) { return run(inputs, RunControl{}); }

void check_inputs(const std::vector<ValueInfo>& declared, const std::map<std::string, Tensor>& inputs) {
  DimBindings bound;
  for (auto& info : declared) {
    auto it = inputs.find(info.name);
    PITH_CHECK(it != inputs.end(), "missing input '", info.name, "' (", dtype_name(info.dtype), ")");
    check_input(info, it->second, bound);
  }
  for (auto& [name, t] : inputs) {
    bool known = false;
    for (auto& info : declared) known |= info.name == name;
    if (!known) {
      std::string names;
      for (auto& info : declared) names += (names.empty() ? "'" : ", '") + info.name + "'";
      fail("unexpected input '", name, "'; the model's inputs are ", names);
    }
  }
}

void check_inputs(const std::vector<ValueInfo>& declared, const std::vector<Tensor>& inputs) {
  PITH_CHECK(inputs.size() == declared.size(), "expected ", declared.size(), " input", declared.size() == 1 ? "" : "s",
             ", got ", inputs.size());
  DimBindings bound;
  for (size_t i = 0; i < declared.size(); ++i) check_input(declared[i], inputs[i], bound);
}

std::vector<Tensor> Session::run(const std::map<std::string, Tensor>& inputs, const RunControl& control) {
  check_inputs(graph_->inputs, inputs);
  std::vector<Tensor> ordered, outputs;
  for (auto& info : graph_->inputs) ordered.push_back(inputs.at(info.name));
  run_checked(ordered, outputs, control);
  return outputs;
}

void Session::run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunControl& control) {
  check_inputs(graph_->inputs, inputs);
  run_checked(inputs, outputs, control);
}

void Session::run_checked(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunControl& control) {
  std::vector<double> node_ms = std::move(stats_.node_ms);  // its capacity, kept
  stats_ = RunStats{};
  stats_.node_ms = std::move(node_ms);
  if (options_.profile)
    stats_.node_ms.assign(graph_->nodes.size(), 0.0);
  else
    stats_.node_ms.clear();
  if (!arena_) arena_ = std::make_unique<Arena>();
  arena_->start_run(*graph_);
  const bool planned = arena_->active;
  Runner runner{plans_, &stats_, pool_.get(), options_.profile, arena_.get(), control.active() ? &control : nullptr};
  pool_->set_control(runner.control);
  try {
    runner.run(*graph_, inputs.data(), inputs.size(), outputs, nullptr);
  } catch (...) {
    pool_->set_control(nullptr);
    arena_->recording = false;  // a partial recording plans nothing
    arena_->mismatch = false;
    throw;
  }
  pool_->set_control(nullptr);
  // A kernel's per-thread scratch that grew on one thread this run is grown on every
  // thread: which thread takes which tile varies, and a later run must not allocate.
  if (simd::thread_scratch_growths() != scratch_growths_) {
    pool_->on_every_thread([] { simd::reserve_thread_scratch(); });
    scratch_growths_ = simd::thread_scratch_growths();
  }
  arena_->finish_run();
  stats_.arena_bytes = arena_->arena_bytes;
  stats_.arena_lower_bound = arena_->lower_bound;
  stats_.used_arena = planned && !arena_->mismatch;
}

}  // namespace pith
