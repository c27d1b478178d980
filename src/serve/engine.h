// Engine: the C++ serving API that `pith serve` puts HTTP on top of.
//
//   Engine engine;
//   std::string id = engine.deploy("model.pith", {.name = "mnist", .workers = 2});
//   InferResult r = engine.infer("mnist", inputs, Clock::now() + 5ms);
//
// A deployment is one version of a named model: its artifact is read (signature checked
// when the config names a public key), given `workers` Sessions each on its own thread,
// and smoke-run on zero inputs before it goes live. Deploying a name again swaps the new
// version in atomically: requests already queued or running finish on the old one,
// new ones go to the new one, none fails. The previous version stays loaded for an
// instant rollback, which is also automatic when the new version's error rate jumps.
//
// infer() validates the inputs, answers from the result cache when it can, and else
// queues the request; a full queue rejects at once (Unavailable) instead of growing.
// The deadline is enforced inside the Session (between operators and between tiles of
// long ones): a late request ends with DeadlineExceeded when its deadline passes, the
// worker stops shortly after and its Session stays usable. With a fallback artifact,
// requests go to it while the recent p95 exceeds the latency budget, or when the
// expected wait would miss the deadline; each switch is counted and kept in the status.
// Micro-batching (max_batch > 1) joins queued requests along the first dimension for
// models whose inputs leave that dimension free.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"
#include "serve/monitor.h"

namespace pith::serve {

using Clock = std::chrono::steady_clock;

struct DeploymentConfig {
  std::string name;            // empty: the artifact's file name without extension
  int workers = 1;             // Sessions serving requests in parallel
  int threads_per_worker = 1;  // threads inside each Session
  size_t queue_capacity = 64;  // requests waiting beyond the running ones
  int64_t max_batch = 1;       // micro-batching (needs a free first input dimension)
  std::chrono::microseconds max_batch_wait{0};
  bool cache = true;  // the result cache, keyed by input bytes and version
  size_t cache_bytes = size_t(64) << 20;
  std::chrono::milliseconds cache_ttl{60'000};
  std::string public_key_file;    // non-empty: the artifact must be signed by this key
  std::string fallback_artifact;  // a smaller or int8 variant, served when the primary is late
  double latency_budget_ms = 0;   // recent p95 above which requests go to the fallback (0: off)
  double max_latency_ms = 0;      // refuse the artifact if its smoke runs' median is slower (0: off)
  // Automatic rollback: among a new version's first `probation_requests`, an error rate
  // above `max_error_rate` (and above the previous version's) restores the previous one.
  int64_t probation_requests = 50;
  double max_error_rate = 0.2;
};

enum class Status { Ok, InvalidArgument, NotFound, DeadlineExceeded, Cancelled, Unavailable, Internal };
const char* status_name(Status s);

// A request that could not be answered; status says why (the HTTP layer maps it to a code).
class ServeError : public Error {
 public:
  ServeError(Status status, const std::string& message) : Error(message), status_(status) {}
  Status status() const { return status_; }

 private:
  Status status_;
};

struct InferResult {
  std::vector<std::string> output_names;
  std::vector<Tensor> outputs;  // owned by the caller
  double latency_ms = 0;        // from infer() being called to the answer
  std::string deployment_id;    // "name:vN" (the fallback's id when it answered)
  int64_t version = 0;
  std::chrono::system_clock::time_point timestamp;
  bool cached = false;
  bool fallback = false;
};

struct VersionInfo {
  int64_t version = 0;
  std::string artifact;
  std::string status;  // "live", "standby" (loaded, instant rollback), "retired"
};

struct ModelStatus {
  std::string name;
  std::string deployment_id;
  int64_t version = 0;
  std::vector<VersionInfo> versions;
  std::vector<ValueInfo> inputs, outputs;
  std::map<std::string, std::string> metadata;
  MonitorSnapshot monitor;
  size_t queue_depth = 0, queue_capacity = 0;
  int workers = 0;
  bool has_fallback = false;
  bool fallback_active = false;
  uint64_t fallback_switches = 0;
  std::string last_switch_reason;
  std::vector<std::string> events;  // swaps, rollbacks and fallback switches, oldest first
};
nlohmann::json model_status_json(const ModelStatus& s);

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads, checks and smoke-runs the artifact, then makes it the live version of the
  // name (version: the next number, or `version` when positive). Returns "name:vN".
  // Throws ServeError (InvalidArgument) naming what is wrong; the live version is then
  // unchanged.
  std::string deploy(const std::string& artifact_path, const DeploymentConfig& config = {}, int64_t version = 0);

  // Runs one request on the live version of `model` (a name, or a "name:vN" id naming
  // the live version). Throws ServeError.
  InferResult infer(const std::string& model, const std::map<std::string, Tensor>& inputs,
                    Clock::time_point deadline = Clock::time_point::max(), const std::atomic<bool>* cancel = nullptr);

  // Makes the previous version live again; false when there is none.
  bool rollback(const std::string& model, const std::string& reason = "requested");
  void undeploy(const std::string& model);

  // The live version's id, number and graph (cheap: for every request's routing).
  struct Live {
    std::string id;
    int64_t version = 0;
    std::shared_ptr<const Graph> graph;
  };
  Live live(const std::string& model) const;  // ServeError NotFound for unknown names

  std::vector<std::string> model_names() const;
  ModelStatus status(const std::string& model) const;  // ServeError NotFound for unknown names
  bool has_model(const std::string& model) const;

  struct Deployment;
  struct Model;

 private:
  std::shared_ptr<Model> find(const std::string& model) const;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Model>> models_;
};

}  // namespace pith::serve
