// Session: runs a verified Graph. At construction it orders the nodes, resolves one
// kernel per node (reporting every unsupported operator at once) and plans value
// lifetimes; run() checks the inputs against the graph's declared types and shapes
// (binding symbolic dimensions), executes the nodes, and returns the outputs.
// One run() at a time per Session (kernels keep per-node state such as packed weights).
//
// Memory: the first run allocates each node's outputs on the heap and records their
// sizes and lifetimes (aliases such as Reshape extend the lifetime of the buffer they
// view); the Session then plans one arena (runtime/memory/planner.h) and later runs
// place every planned output in it. If input shapes change, the run that notices
// falls back to the heap and the next run re-plans. Outputs returned by run() may view
// the arena: their contents are valid until the next run() (as in TFLite).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/run_control.h"
#include "core/tensor.h"
#include "ir/graph.h"
#include "runtime/kernel.h"

namespace pith {

struct SessionOptions {
  int threads = 1;
  bool profile = false;  // time every top-level node (RunStats::node_ms)
};

// Measured during the last run().
struct RunStats {
  size_t peak_activation_bytes = 0;  // largest total of intermediate tensors alive at once
  size_t arena_bytes = 0;            // the planned arena (0 until memory is planned)
  size_t arena_lower_bound = 0;      // largest total of planned buffers alive at one step
  bool used_arena = false;           // this run's outputs came from the planned arena
  std::vector<double> node_ms;       // per top-level node, when SessionOptions::profile
};

struct UnsupportedOp {
  std::string op_type;
  std::string domain;
  std::string node_name;
  int64_t opset = 0;
};

// Throws an Error naming the first problem unless `inputs` holds exactly the declared
// inputs, each of its declared element type and shape (symbolic dimensions bound
// consistently). Session::run checks this first.
void check_inputs(const std::vector<ValueInfo>& declared, const std::map<std::string, Tensor>& inputs);
// The same for inputs given by position, in the declared order.
void check_inputs(const std::vector<ValueInfo>& declared, const std::vector<Tensor>& inputs);

// Every node (subgraphs included) without a kernel.
std::vector<UnsupportedOp> find_unsupported_ops(const Graph& g);

class Session {
 public:
  explicit Session(std::shared_ptr<const Graph> graph, SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<ValueInfo>& inputs() const { return graph_->inputs; }
  const std::vector<ValueInfo>& outputs() const { return graph_->outputs; }
  const Graph& graph() const { return *graph_; }

  // Inputs by name; every graph input must be given, and no other.
  std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs);
  // The same, stopped with Interrupted (core/run_control.h) once `control` expires: it is
  // checked before every node and before every chunk of a kernel's parallel loop.
  std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs, const RunControl& control);
  // Inputs by position (in the order of inputs()); the outputs are written into
  // `outputs` (resized to outputs().size()). Once a run has planned the memory (the first
  // with these input shapes), a run of a model without control flow (If, Loop, Scan)
  // performs no heap allocation: with `outputs` kept from the previous run, nothing is
  // allocated from the input check to the last output (tests/models/allocation_test.cpp).
  void run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunControl& control = RunControl{});
  const RunStats& last_run_stats() const { return stats_; }

  struct Plan;
  struct Arena;

 private:
  void run_checked(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunControl& control);

  std::shared_ptr<const Graph> graph_;
  SessionOptions options_;
  RunStats stats_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Arena> arena_;
  std::map<const Graph*, std::unique_ptr<Plan>> plans_;
  uint64_t scratch_growths_ = 0;  // simd::thread_scratch_growths() after the last run's reserve
};

}  // namespace pith
