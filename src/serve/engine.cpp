#include "serve/engine.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <thread>

#include "artifact/artifact.h"
#include "artifact/signature.h"
#include "core/run_control.h"
#include "runtime/session.h"
#include "serve/result_cache.h"

namespace pith::serve {

const char* status_name(Status s) {
  switch (s) {
    case Status::Ok:
      return "ok";
    case Status::InvalidArgument:
      return "invalid_argument";
    case Status::NotFound:
      return "not_found";
    case Status::DeadlineExceeded:
      return "deadline_exceeded";
    case Status::Cancelled:
      return "cancelled";
    case Status::Unavailable:
      return "unavailable";
    case Status::Internal:
      return "internal";
  }
  return "unknown";
}

namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string now_string() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// One request in a deployment's queue. The caller waits on it until its deadline; a
// worker fills it. `stop` tells the worker the caller has gone (deadline, cancel).
struct Job {
  std::map<std::string, Tensor> inputs;
  Clock::time_point deadline;
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  Status status = Status::Ok;
  std::string error;
  std::vector<Tensor> outputs;

  void finish(Status s, std::string message, std::vector<Tensor> outs = {}) {
    std::lock_guard<std::mutex> lock(mutex);
    status = s;
    error = std::move(message);
    outputs = std::move(outs);
    done = true;
    cv.notify_all();
  }
};

// A graph input or output whose first dimension is free (symbolic or unknown).
bool free_first_dim(const ValueInfo& v) { return v.shape && !v.shape->empty() && !(*v.shape)[0].known(); }

// Zero tensors of the declared shapes (free dimensions = 1), for the smoke run.
std::map<std::string, Tensor> zero_inputs(const Graph& g) {
  std::map<std::string, Tensor> inputs;
  for (auto& v : g.inputs) {
    PITH_CHECK(v.dtype != DType::String && v.dtype != DType::Undefined, "input '", v.name, "' has element type ",
               dtype_name(v.dtype), ", which the server cannot feed");
    Shape shape;
    if (v.shape)
      for (auto& d : *v.shape) shape.push_back(d.known() ? d.value : 1);
    inputs.emplace(v.name, Tensor(v.dtype, shape));
  }
  return inputs;
}

// Joins tensors of equal trailing shape along dimension 0.
Tensor concat_rows(const std::vector<const Tensor*>& parts) {
  Shape shape = parts[0]->shape();
  shape[0] = 0;
  for (auto* p : parts) shape[0] += p->dim(0);
  Tensor out(parts[0]->dtype(), shape);
  char* dst = static_cast<char*>(out.raw());
  for (auto* p : parts) {
    std::memcpy(dst, p->raw(), p->nbytes());
    dst += p->nbytes();
  }
  return out;
}

Tensor slice_rows(const Tensor& t, int64_t begin, int64_t rows) {
  Shape shape = t.shape();
  const size_t row_bytes = t.dim(0) ? t.nbytes() / size_t(t.dim(0)) : 0;
  shape[0] = rows;
  Tensor out(t.dtype(), shape);
  std::memcpy(out.raw(), static_cast<const char*>(t.raw()) + size_t(begin) * row_bytes, size_t(rows) * row_bytes);
  return out;
}

bool same_trailing_shape(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  for (auto& [name, t] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.rank() != t.rank() || it->second.dtype() != t.dtype() || t.rank() == 0)
      return false;
    for (int64_t i = 1; i < t.rank(); ++i)
      if (it->second.dim(i) != t.dim(i)) return false;
  }
  return true;
}

}  // namespace

// One version of a model: its graph, worker Sessions on their own threads, the queue.
struct Engine::Deployment {
  std::string name, id, artifact;
  int64_t version = 0;
  DeploymentConfig config;
  std::shared_ptr<const Graph> graph;
  std::map<std::string, std::string> metadata;
  bool batchable = false;
  Monitor monitor{256, 64};  // this version's own latencies (fallback and rollback decisions)
  std::atomic<int64_t> completed{0}, failed{0};
  std::unique_ptr<Deployment> fallback;

  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::deque<std::shared_ptr<Job>> queue;
  bool stopping = false;
  std::atomic<int> running{0};
  std::vector<std::unique_ptr<Session>> sessions;
  std::vector<std::thread> threads;

  Deployment(const std::string& path, const DeploymentConfig& cfg, const std::string& model_name, int64_t v) {
    name = model_name;
    version = v;
    id = name + ":v" + std::to_string(v);
    artifact = path;
    config = cfg;
    PITH_CHECK(config.workers >= 1 && config.workers <= 64, "workers must be in [1, 64], got ", config.workers);
    PITH_CHECK(config.threads_per_worker >= 1, "threads per worker must be at least 1");
    PITH_CHECK(config.max_batch >= 1, "max batch must be at least 1");
    if (!config.public_key_file.empty()) artifact::require_signature(path, config.public_key_file);
    PITH_CHECK(artifact::looks_like_artifact(path), path, ": not a .pith artifact");
    artifact::Artifact a = artifact::read_file(path);
    metadata = std::move(a.metadata);
    graph = std::make_shared<const Graph>(std::move(a.graph));
    batchable = !graph->inputs.empty() && std::all_of(graph->inputs.begin(), graph->inputs.end(), free_first_dim) &&
                std::all_of(graph->outputs.begin(), graph->outputs.end(), free_first_dim);
    PITH_CHECK(config.max_batch == 1 || batchable, "micro-batching (max batch ", config.max_batch,
               ") needs a model whose inputs and outputs leave the first dimension free");
    const auto smoke = zero_inputs(*graph);
    for (int w = 0; w < config.workers; ++w) {
      auto s = std::make_unique<Session>(graph, SessionOptions{config.threads_per_worker});
      try {
        s->run(smoke);  // also plans the arena before the first request
        if (w == 0 && config.max_latency_ms > 0) {
          std::vector<double> ms;
          for (int r = 0; r < 5; ++r) {
            const auto t0 = Clock::now();
            s->run(smoke);
            ms.push_back(ms_between(t0, Clock::now()));
          }
          std::sort(ms.begin(), ms.end());
          PITH_CHECK(ms[2] <= config.max_latency_ms, "its smoke runs take ", ms[2], " ms (median of 5), over the ",
                     "latency budget of ", config.max_latency_ms, " ms");
        }
      } catch (const Error& e) {
        fail("smoke run failed: ", e.what());
      }
      sessions.push_back(std::move(s));
    }
    for (int w = 0; w < config.workers; ++w) threads.emplace_back([this, w] { work(*sessions[size_t(w)]); });
  }

  ~Deployment() {
    {
      std::lock_guard<std::mutex> lock(queue_mutex);
      stopping = true;
    }
    queue_cv.notify_all();
    for (auto& t : threads) t.join();
    for (auto& job : queue) job->finish(Status::Unavailable, "deployment " + id + " was retired");
  }

  size_t depth() {
    std::lock_guard<std::mutex> lock(queue_mutex);
    return queue.size();
  }

  // Queues a job; Unavailable at once when the queue is full.
  void submit(const std::shared_ptr<Job>& job) {
    {
      std::lock_guard<std::mutex> lock(queue_mutex);
      if (queue.size() >= config.queue_capacity)
        throw ServeError(Status::Unavailable, id + ": queue full (" + std::to_string(config.queue_capacity) +
                                                  " requests waiting); retry later");
      queue.push_back(job);
    }
    queue_cv.notify_one();
  }

  // How long a request queued now would take, from this version's recent latencies.
  double expected_ms() {
    const MonitorSnapshot s = monitor.snapshot();
    if (s.window_samples == 0) return 0;
    const double waiting = double(depth() + size_t(running.load()));
    return s.p50_ms * (1.0 + std::floor(waiting / double(config.workers)));
  }

  void work(Session& session) {
    for (;;) {
      std::vector<std::shared_ptr<Job>> batch;
      {
        std::unique_lock<std::mutex> lock(queue_mutex);
        queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        batch.push_back(queue.front());
        queue.pop_front();
        if (config.max_batch > 1) gather(lock, batch);
        ++running;
      }
      run_jobs(session, batch);
      --running;
    }
  }

  // More queued requests of the same shape, up to max_batch rows, waiting at most max_batch_wait.
  void gather(std::unique_lock<std::mutex>& lock, std::vector<std::shared_ptr<Job>>& batch) {
    const auto until = Clock::now() + config.max_batch_wait;
    int64_t rows = batch[0]->inputs.begin()->second.dim(0);
    for (;;) {
      while (!queue.empty() && rows < config.max_batch &&
             same_trailing_shape(batch[0]->inputs, queue.front()->inputs) &&
             rows + queue.front()->inputs.begin()->second.dim(0) <= config.max_batch) {
        rows += queue.front()->inputs.begin()->second.dim(0);
        batch.push_back(queue.front());
        queue.pop_front();
      }
      if (rows >= config.max_batch || stopping ||
          !queue_cv.wait_until(lock, until, [&] { return stopping || !queue.empty(); }))
        return;
      if (!queue.empty() && !same_trailing_shape(batch[0]->inputs, queue.front()->inputs)) return;
    }
  }

  void run_jobs(Session& session, std::vector<std::shared_ptr<Job>>& batch) {
    const auto now = Clock::now();
    std::vector<std::shared_ptr<Job>> live;
    for (auto& job : batch) {
      if (job->stop.load())
        job->finish(Status::Cancelled, "the caller gave up before the request ran");
      else if (now >= job->deadline)
        job->finish(Status::DeadlineExceeded, "deadline exceeded while the request waited in the queue");
      else
        live.push_back(job);
    }
    if (live.empty()) return;
    RunControl control;
    std::map<std::string, Tensor> inputs;
    std::atomic<bool> stop_all{false};
    if (live.size() == 1) {
      control.deadline = live[0]->deadline;
      control.cancel = &live[0]->stop;
      inputs = live[0]->inputs;
    } else {
      // The batch runs until its last deadline; callers whose own deadline passes first
      // have already been answered DeadlineExceeded by infer().
      control.deadline = Clock::time_point::min();
      control.cancel = &stop_all;
      for (auto& job : live) control.deadline = std::max(control.deadline, job->deadline);
      for (auto& [name, t] : live[0]->inputs) {
        std::vector<const Tensor*> parts;
        for (auto& job : live) parts.push_back(&job->inputs.at(name));
        inputs.emplace(name, concat_rows(parts));
      }
    }
    try {
      std::vector<Tensor> outputs = session.run(inputs, control);
      if (live.size() == 1) {
        for (auto& t : outputs) t = t.clone();  // outputs view the Session's arena
        live[0]->finish(Status::Ok, "", std::move(outputs));
        return;
      }
      int64_t row = 0;
      for (auto& job : live) {
        const int64_t rows = job->inputs.begin()->second.dim(0);
        std::vector<Tensor> mine;
        for (auto& t : outputs) {
          PITH_CHECK(t.rank() > 0 && t.dim(0) == inputs.begin()->second.dim(0), "a batched output's first dimension ",
                     "is not the batch");
          mine.push_back(slice_rows(t, row, rows));
        }
        row += rows;
        job->finish(Status::Ok, "", std::move(mine));
      }
    } catch (const Interrupted& e) {
      for (auto& job : live)
        job->finish(e.reason() == Interrupted::Reason::Cancelled && job->deadline > Clock::now()
                        ? Status::Cancelled
                        : Status::DeadlineExceeded,
                    e.what());
    } catch (const std::exception& e) {
      for (auto& job : live) job->finish(Status::Internal, std::string(id) + ": " + e.what());
    }
  }
};

// A named model: its live version, the previous one (loaded, for rollback), the cache.
struct Engine::Model {
  std::string name;
  mutable std::mutex mutex;
  std::shared_ptr<Deployment> live, previous;
  std::vector<VersionInfo> versions;
  std::shared_ptr<ResultCache> cache;  // shared: a request keeps it while a redeploy drops it
  Monitor monitor;                     // every request of every version
  bool fallback_active = false;
  uint64_t fallback_switches = 0, since_probe = 0;
  std::string last_switch_reason;
  std::deque<std::string> events;

  void event(const std::string& what) {
    events.push_back(now_string() + " " + what);
    if (events.size() > 64) events.pop_front();
  }
  void set_status(int64_t version, const std::string& status) {
    for (auto& v : versions)
      if (v.version == version) v.status = status;
  }
};

Engine::Engine() = default;
Engine::~Engine() = default;

std::shared_ptr<Engine::Model> Engine::find(const std::string& model) const {
  std::string name = model;
  if (auto colon = model.rfind(":v"); colon != std::string::npos) name = model.substr(0, colon);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = models_.find(name);
  if (it == models_.end()) throw ServeError(Status::NotFound, "no model named '" + name + "'");
  return it->second;
}

bool Engine::has_model(const std::string& model) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return models_.count(model) > 0;
}

std::vector<std::string> Engine::model_names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> names;
  for (auto& [n, m] : models_) names.push_back(n);
  return names;
}

std::string Engine::deploy(const std::string& artifact_path, const DeploymentConfig& config, int64_t version) {
  const std::string name = config.name.empty() ? std::filesystem::path(artifact_path).stem().string() : config.name;
  if (name.empty() || name.find_first_of("/:?# ") != std::string::npos)
    throw ServeError(Status::InvalidArgument,
                     "model name '" + name + "' must be non-empty without '/', ':', '?', '#' or spaces");
  std::shared_ptr<Model> model;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = models_[name];
    if (!slot) {
      slot = std::make_shared<Model>();
      slot->name = name;
    }
    model = slot;
  }
  int64_t v = version;
  {
    std::lock_guard<std::mutex> lock(model->mutex);
    if (v <= 0) {
      v = 1;
      for (auto& info : model->versions) v = std::max(v, info.version + 1);
    }
  }
  std::shared_ptr<Deployment> fresh;
  try {
    fresh = std::make_shared<Deployment>(artifact_path, config, name, v);
    if (!config.fallback_artifact.empty()) {
      DeploymentConfig fb = config;
      fb.fallback_artifact.clear();
      try {
        fresh->fallback = std::make_unique<Deployment>(config.fallback_artifact, fb, name + "-fallback", v);
      } catch (const Error& e) {
        fail("fallback: ", e.what());
      }
      PITH_CHECK(fresh->fallback->graph->inputs.size() == fresh->graph->inputs.size(),
                 "fallback: its inputs differ from the model's");
      for (size_t i = 0; i < fresh->graph->inputs.size(); ++i) {
        const ValueInfo &a = fresh->graph->inputs[i], &b = fresh->fallback->graph->inputs[i];
        PITH_CHECK(a.name == b.name && a.dtype == b.dtype, "fallback: input '", b.name, "' (", dtype_name(b.dtype),
                   ") does not match the model's input '", a.name, "' (", dtype_name(a.dtype), ")");
      }
    }
  } catch (const ServeError&) {
    throw;
  } catch (const Error& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = models_.find(name);
    if (it != models_.end() && !it->second->live) models_.erase(it);  // a first deploy that failed leaves nothing
    throw ServeError(Status::InvalidArgument, artifact_path + ": " + e.what());
  }
  std::shared_ptr<Deployment> retired;
  {
    std::lock_guard<std::mutex> lock(model->mutex);
    if (!model->cache && config.cache)
      model->cache = std::make_shared<ResultCache>(config.cache_bytes, config.cache_ttl);
    if (!config.cache) model->cache.reset();
    retired = std::move(model->previous);
    if (retired) model->set_status(retired->version, "retired");
    model->previous = std::move(model->live);
    if (model->previous) model->set_status(model->previous->version, "standby");
    model->live = fresh;
    model->versions.erase(std::remove_if(model->versions.begin(), model->versions.end(),
                                         [&](const VersionInfo& i) { return i.version == v; }),
                          model->versions.end());
    model->versions.push_back({v, artifact_path, "live"});
    model->fallback_active = false;
    model->event("deployed " + fresh->id + " from " + artifact_path);
  }
  return fresh->id;  // `retired` shuts down here, outside the locks
}

bool Engine::rollback(const std::string& model_name, const std::string& reason) {
  auto model = find(model_name);
  std::shared_ptr<Deployment> retired;
  {
    std::lock_guard<std::mutex> lock(model->mutex);
    if (!model->previous) return false;
    retired = std::move(model->live);
    model->live = std::move(model->previous);
    model->set_status(retired->version, "retired");
    model->set_status(model->live->version, "live");
    model->fallback_active = false;
    model->event("rolled back from " + retired->id + " to " + model->live->id + " (" + reason + ")");
  }
  return true;
}

void Engine::undeploy(const std::string& model_name) {
  auto model = find(model_name);
  std::lock_guard<std::mutex> lock(mutex_);
  models_.erase(model->name);
}

InferResult Engine::infer(const std::string& model_name, const std::map<std::string, Tensor>& inputs,
                          Clock::time_point deadline, const std::atomic<bool>* cancel) {
  const auto start = Clock::now();
  auto model = find(model_name);
  std::shared_ptr<Deployment> live;
  std::shared_ptr<ResultCache> cache;
  {
    std::lock_guard<std::mutex> lock(model->mutex);
    live = model->live;
    cache = model->cache;
  }
  if (!live) throw ServeError(Status::NotFound, "model '" + model->name + "' has no live version");
  try {
    check_inputs(live->graph->inputs, inputs);
  } catch (const Error& e) {
    throw ServeError(Status::InvalidArgument, e.what());
  }
  InferResult result;
  for (auto& v : live->graph->outputs) result.output_names.push_back(v.name);
  const uint64_t key = cache ? request_key(inputs, live->version) : 0;
  if (cache) {
    auto hit = cache->get(key);
    model->monitor.record_cache(bool(hit));
    if (hit) {
      result.outputs = std::move(*hit);
      result.cached = true;
      result.deployment_id = live->id;
      result.version = live->version;
      result.timestamp = std::chrono::system_clock::now();
      result.latency_ms = ms_between(start, Clock::now());
      model->monitor.record(Outcome::Ok, result.latency_ms);
      return result;
    }
  }

  // Route: the fallback while the primary's recent p95 is over budget (every 8th request
  // still probes the primary, so its latencies stay current), or when waiting for the
  // primary would miss the deadline.
  Deployment* target = live.get();
  if (live->fallback) {
    std::string reason;
    const MonitorSnapshot recent = live->monitor.snapshot();
    if (live->config.latency_budget_ms > 0 && recent.window_samples > 0 &&
        recent.p95_ms > live->config.latency_budget_ms)
      reason = "p95 " + std::to_string(recent.p95_ms) + " ms over the budget of " +
               std::to_string(live->config.latency_budget_ms) + " ms";
    else if (deadline != Clock::time_point::max() &&
             start + std::chrono::duration<double, std::milli>(live->expected_ms()) > deadline)
      reason = "the deadline cannot be met by the primary";
    std::lock_guard<std::mutex> lock(model->mutex);
    const bool probe = !reason.empty() && model->fallback_active && ++model->since_probe % 8 == 0;
    const bool use_fallback = !reason.empty() && !probe;
    if (use_fallback != model->fallback_active && !probe) {
      model->fallback_active = use_fallback;
      ++model->fallback_switches;
      model->last_switch_reason = use_fallback ? reason : "primary within budget again";
      model->event(std::string(use_fallback ? "switched to the fallback: " : "back to the primary: ") +
                   model->last_switch_reason);
    }
    if (use_fallback) target = live->fallback.get();
  }

  auto job = std::make_shared<Job>();
  job->inputs = inputs;
  job->deadline = deadline;
  try {
    target->submit(job);
  } catch (const ServeError&) {
    model->monitor.record(Outcome::Rejected, 0, target != live.get());
    throw;
  }
  std::unique_lock<std::mutex> lock(job->mutex);
  while (!job->done) {
    const auto now = Clock::now();
    if (cancel && cancel->load()) {
      job->stop = true;
      lock.unlock();
      model->monitor.record(Outcome::Error, ms_between(start, now), target != live.get());
      throw ServeError(Status::Cancelled, "request cancelled");
    }
    if (now >= deadline) {
      job->stop = true;
      lock.unlock();
      const double waited = ms_between(start, now);
      model->monitor.record(Outcome::Timeout, waited, target != live.get());
      target->monitor.record(Outcome::Timeout, waited);
      throw ServeError(Status::DeadlineExceeded, "deadline exceeded after " + std::to_string(waited) + " ms");
    }
    // Wake at the deadline, and every millisecond when a cancel flag must be watched.
    auto until = deadline;
    if (cancel) until = std::min(until, now + std::chrono::milliseconds(1));
    if (until == Clock::time_point::max())
      job->cv.wait(lock);
    else
      job->cv.wait_until(lock, until);
  }
  const Status status = job->status;
  std::string error = job->error;
  std::vector<Tensor> outputs = std::move(job->outputs);
  lock.unlock();
  const double latency = ms_between(start, Clock::now());
  const bool fallback = target != live.get();
  if (status != Status::Ok) {
    model->monitor.record(status == Status::DeadlineExceeded ? Outcome::Timeout : Outcome::Error, latency, fallback);
    if (status == Status::Internal) {
      const int64_t failed = ++target->failed, done = ++target->completed;
      // Probation: a new version failing much more than its predecessor goes back.
      std::shared_ptr<Deployment> previous;
      {
        std::lock_guard<std::mutex> mlock(model->mutex);
        previous = model->previous;
      }
      if (!fallback && previous && done >= 10 && done <= live->config.probation_requests) {
        const double rate = double(failed) / double(done);
        const double before = previous->completed ? double(previous->failed) / double(previous->completed) : 0.0;
        if (rate > live->config.max_error_rate && rate > before) {
          std::lock_guard<std::mutex> mlock(model->mutex);
          if (model->live == live && model->previous) {
            model->live = std::move(model->previous);
            model->set_status(live->version, "retired");
            model->set_status(model->live->version, "live");
            model->event("rolled back automatically from " + live->id + " to " + model->live->id + ": error rate " +
                         std::to_string(rate) + " in its first " + std::to_string(done) + " requests");
          }
        }
      }
    }
    if (status == Status::DeadlineExceeded)  // one message, whichever side noticed first
      error = "deadline exceeded after " + std::to_string(latency) + " ms (" + error + ")";
    throw ServeError(status, error);
  }
  ++target->completed;
  target->monitor.record(Outcome::Ok, latency);
  model->monitor.record(Outcome::Ok, latency, fallback);
  if (cache && !fallback) cache->put(key, outputs);
  result.outputs = std::move(outputs);
  result.fallback = fallback;
  result.deployment_id = target->id;
  result.version = live->version;
  result.timestamp = std::chrono::system_clock::now();
  result.latency_ms = latency;
  return result;
}

Engine::Live Engine::live(const std::string& model_name) const {
  auto model = find(model_name);
  std::lock_guard<std::mutex> lock(model->mutex);
  if (!model->live) throw ServeError(Status::NotFound, "model '" + model->name + "' has no live version");
  return {model->live->id, model->live->version, model->live->graph};
}

ModelStatus Engine::status(const std::string& model_name) const {
  auto model = find(model_name);
  std::shared_ptr<Deployment> live;
  ModelStatus s;
  {
    std::lock_guard<std::mutex> lock(model->mutex);
    live = model->live;
    s.versions = model->versions;
    s.fallback_active = model->fallback_active;
    s.fallback_switches = model->fallback_switches;
    s.last_switch_reason = model->last_switch_reason;
    s.events.assign(model->events.begin(), model->events.end());
  }
  s.name = model->name;
  s.monitor = model->monitor.snapshot();
  if (live) {
    s.deployment_id = live->id;
    s.version = live->version;
    s.inputs = live->graph->inputs;
    s.outputs = live->graph->outputs;
    s.metadata = live->metadata;
    s.queue_depth = live->depth();
    s.queue_capacity = live->config.queue_capacity;
    s.workers = live->config.workers;
    s.has_fallback = bool(live->fallback);
  }
  return s;
}

namespace {

nlohmann::json value_info_json(const ValueInfo& v) {
  nlohmann::json shape = nullptr;
  if (v.shape) {
    shape = nlohmann::json::array();
    for (auto& d : *v.shape)
      shape.push_back(d.known() ? nlohmann::json(d.value) : nlohmann::json(d.param.empty() ? "?" : d.param));
  }
  return {{"name", v.name}, {"dtype", dtype_name(v.dtype)}, {"shape", shape}};
}

}  // namespace

nlohmann::json model_status_json(const ModelStatus& s) {
  nlohmann::json versions = nlohmann::json::array(), inputs = nlohmann::json::array(),
                 outputs = nlohmann::json::array();
  for (auto& v : s.versions)
    versions.push_back({{"version", v.version}, {"artifact", v.artifact}, {"status", v.status}});
  for (auto& v : s.inputs) inputs.push_back(value_info_json(v));
  for (auto& v : s.outputs) outputs.push_back(value_info_json(v));
  nlohmann::json metadata = nlohmann::json::object();
  for (auto& [k, v] : s.metadata)
    if (v.size() <= 256) metadata[k] = v;  // long entries (reports) stay in the artifact
  return {{"name", s.name},
          {"deployment_id", s.deployment_id},
          {"version", s.version},
          {"status", s.deployment_id.empty() ? "unavailable" : "live"},
          {"versions", versions},
          {"inputs", inputs},
          {"outputs", outputs},
          {"metadata", metadata},
          {"workers", s.workers},
          {"queue", {{"depth", s.queue_depth}, {"capacity", s.queue_capacity}}},
          {"fallback",
           {{"configured", s.has_fallback},
            {"active", s.fallback_active},
            {"switches", s.fallback_switches},
            {"last_reason", s.last_switch_reason}}},
          {"events", s.events},
          {"monitor", monitor_json(s.monitor)}};
}

}  // namespace pith::serve
