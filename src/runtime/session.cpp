#include "runtime/session.h"

#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <unordered_map>

#include "ir/verify.h"
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

void check_input(const ValueInfo& info, const Tensor& t, std::map<std::string, int64_t>& bound) {
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
      auto [it, fresh] = bound.emplace(dims[i].param, got);
      PITH_CHECK(fresh || it->second == got, "input '", info.name, "': dimension '", dims[i].param, "' is ", got,
                 " here but ", it->second, " in another input");
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
  };
  struct Buffer {
    size_t bytes;
    int64_t first, last;
    const char* ptr;
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

  void finish_run() {
    if (mismatch) {  // shapes changed: record and re-plan on the next run
      active = false;
      return;
    }
    if (!recording) return;
    recording = false;
    std::vector<BufferLifetime> lifetimes;
    for (auto& b : buffers) lifetimes.push_back({b.bytes, b.first, b.last});
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
        if (b >= 0) slots[n][o] = {plan.offsets[size_t(b)], buffers[size_t(b)].bytes, true};
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
      if (output < slots.size() && slots[output].planned && bytes <= slots[output].bytes) {
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

// True for slots written by nodes (not inputs, initializers or outer-scope values).
bool plan_owns_slot(const Session::Plan& plan, int s) {
  for (int i : plan.input_slots)
    if (i == s) return false;
  for (auto& [i, t] : plan.initializers)
    if (i == s) return false;
  for (auto& [i, n] : plan.outer)
    if (i == s) return false;
  return true;
}

struct Runner {
  const std::map<const Graph*, std::unique_ptr<Session::Plan>>& plans;
  RunStats* stats = nullptr;  // filled for the top-level graph only
  ThreadPool* pool = nullptr;
  bool profile = false;
  Session::Arena* arena = nullptr;  // top-level graph only
  const RunControl* control = nullptr;

  std::vector<Tensor> run(const Graph& g, const std::vector<Tensor>& inputs,
                          const std::function<const Tensor*(const std::string&)>& outer_lookup) {
    const Session::Plan& plan = *plans.at(&g);
    std::vector<Tensor> values(plan.num_slots);
    for (auto& [s, t] : plan.initializers) values[size_t(s)] = *t;
    for (auto& [s, name] : plan.outer) {
      const Tensor* t = outer_lookup ? outer_lookup(name) : nullptr;
      PITH_CHECK(t, "subgraph '", g.name, "' reads '", name, "', which is not available");
      values[size_t(s)] = *t;
    }
    size_t n_in = std::min(inputs.size(), plan.input_slots.size());
    for (size_t i = 0; i < n_in; ++i) values[size_t(plan.input_slots[i])] = inputs[i];

    std::unordered_map<std::string, int> names;  // for subgraphs reading this scope
    auto lookup_here = [&](const std::string& name) -> const Tensor* {
      if (names.empty()) {
        // Build lazily: map every named slot of this graph.
        for (size_t i = 0; i < g.inputs.size(); ++i) names[g.inputs[i].name] = plan.input_slots[i];
        size_t k = 0;
        for (auto& [name2, t] : g.initializers) names[name2] = plan.initializers[k++].first;
        for (auto& [s, name2] : plan.outer) names[name2] = s;
        for (size_t n = 0; n < g.nodes.size(); ++n)
          for (size_t o = 0; o < g.nodes[n].outputs.size(); ++o)
            if (plan.node_outputs[n][o] >= 0) names[g.nodes[n].outputs[o]] = plan.node_outputs[n][o];
      }
      auto it = names.find(name);
      if (it != names.end() && values[size_t(it->second)].defined()) return &values[size_t(it->second)];
      return outer_lookup ? outer_lookup(name) : nullptr;
    };
    SubgraphRunner sub = [&](const Graph& body, const std::vector<Tensor>& body_inputs) {
      return run(body, body_inputs, lookup_here);
    };

    RunStats* top_stats = stats;
    stats = nullptr;
    Session::Arena* top_arena = arena;
    arena = nullptr;
    size_t live = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
      check_run_control(control);
      const Node& node = g.nodes[n];
      std::vector<const Tensor*> ins;
      ins.reserve(plan.node_inputs[n].size());
      for (int s : plan.node_inputs[n]) ins.push_back(s >= 0 ? &values[size_t(s)] : nullptr);
      std::vector<Tensor> outs(node.outputs.size());
      auto it = g.domain_opsets.find(node.domain);
      int64_t opset = it != g.domain_opsets.end() ? it->second : g.opset;
      KernelContext ctx(node, opset, std::move(ins), outs, &sub, pool, &plan.node_state[n]);
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
        throw;
      } catch (const Error& e) {
        std::string what = e.what();
        if (what.rfind(node.describe(), 0) == 0) throw;
        throw Error(node.describe() + ": " + what);
      }
      for (size_t o = 0; o < outs.size(); ++o) {
        int s = plan.node_outputs[n][o];
        if (s < 0) continue;
        if (!outs[o].defined()) ctx.fail("output ", o, " ('", node.outputs[o], "') was not produced");
        live += outs[o].nbytes();
        if (top_arena && top_arena->recording && outs[o].nbytes()) {
          // Whatever buffer this value lives in (its own or one it aliases) must
          // survive until the value's last reader.
          if (auto* b = top_arena->containing(outs[o].raw())) b->last = std::max(b->last, plan.last_use[size_t(s)]);
        }
        values[size_t(s)] = std::move(outs[o]);
      }
      if (top_stats) top_stats->peak_activation_bytes = std::max(top_stats->peak_activation_bytes, live);
      for (int s : plan.node_frees[n]) {
        if (values[size_t(s)].defined() && plan_owns_slot(plan, s)) live -= values[size_t(s)].nbytes();
        values[size_t(s)] = Tensor();
      }
    }
    std::vector<Tensor> result;
    for (int s : plan.output_slots) result.push_back(values[size_t(s)]);
    return result;
  }
};

}  // namespace

std::vector<Tensor> Session::run(const std::map<std::string, Tensor>& inputs) { return run(inputs, RunControl{}); }

void check_inputs(const std::vector<ValueInfo>& declared, const std::map<std::string, Tensor>& inputs) {
  std::map<std::string, int64_t> bound;
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

std::vector<Tensor> Session::run(const std::map<std::string, Tensor>& inputs, const RunControl& control) {
  check_inputs(graph_->inputs, inputs);
  std::vector<Tensor> ordered;
  for (auto& info : graph_->inputs) ordered.push_back(inputs.at(info.name));
  stats_ = RunStats{};
  if (options_.profile) stats_.node_ms.assign(graph_->nodes.size(), 0.0);
  if (!arena_) arena_ = std::make_unique<Arena>();
  arena_->start_run(*graph_);
  const bool planned = arena_->active;
  Runner runner{plans_, &stats_, pool_.get(), options_.profile, arena_.get(), control.active() ? &control : nullptr};
  pool_->set_control(runner.control);
  std::vector<Tensor> outputs;
  try {
    outputs = runner.run(*graph_, ordered, nullptr);
  } catch (...) {
    pool_->set_control(nullptr);
    arena_->recording = false;  // a partial recording plans nothing
    arena_->mismatch = false;
    throw;
  }
  pool_->set_control(nullptr);
  arena_->finish_run();
  stats_.arena_bytes = arena_->arena_bytes;
  stats_.arena_lower_bound = arena_->lower_bound;
  stats_.used_arena = planned && !arena_->mismatch;
  return outputs;
}

}  // namespace pith
