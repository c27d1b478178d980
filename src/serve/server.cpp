#include "serve/server.h"

#include <httplib.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/npy.h"
#include "serve/input_pipeline.h"
#include "serve/model_store.h"
#include "serve/output_pipeline.h"
#include "serve/tensor_codec.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace pith::serve {

namespace {

// How one version of a model turns requests into inputs and outputs into answers.
struct Pipelines {
  std::optional<InputPipeline> input;
  OutputPipeline output;
};

// A model's settings file: its deployment config and pipeline overrides.
struct Settings {
  DeploymentConfig config;
  std::optional<json> input_pipeline, output_pipeline;
};

Settings read_settings(const std::string& file, const DeploymentConfig& defaults, const std::string& models_dir) {
  Settings s;
  s.config = defaults;
  if (file.empty()) return s;
  std::ifstream in(file);
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    fail(file, ": not valid JSON: ", e.what());
  }
  PITH_CHECK(j.is_object(), file, ": expected a JSON object of settings");
  auto number = [&](const std::string& k, double lo, double hi) {
    PITH_CHECK(j[k].is_number(), file, ": \"", k, "\" must be a number");
    const double v = j[k].get<double>();
    PITH_CHECK(v >= lo && v <= hi, file, ": \"", k, "\" must be in [", lo, ", ", hi, "], got ", v);
    return v;
  };
  for (auto& [k, v] : j.items()) {
    if (k == "workers")
      s.config.workers = int(number(k, 1, 64));
    else if (k == "threads_per_worker")
      s.config.threads_per_worker = int(number(k, 1, 64));
    else if (k == "queue_capacity")
      s.config.queue_capacity = size_t(number(k, 0, 1e6));
    else if (k == "max_batch")
      s.config.max_batch = int64_t(number(k, 1, 4096));
    else if (k == "max_batch_wait_ms")
      s.config.max_batch_wait = std::chrono::microseconds(int64_t(1000 * number(k, 0, 1e4)));
    else if (k == "cache") {
      PITH_CHECK(v.is_boolean(), file, ": \"cache\" must be true or false");
      s.config.cache = v.get<bool>();
    } else if (k == "cache_mb")
      s.config.cache_bytes = size_t(number(k, 0, 1e6) * 1048576.0);
    else if (k == "cache_ttl_s")
      s.config.cache_ttl = std::chrono::milliseconds(int64_t(1000 * number(k, 0, 1e7)));
    else if (k == "latency_budget_ms")
      s.config.latency_budget_ms = number(k, 0, 1e7);
    else if (k == "fallback") {
      PITH_CHECK(v.is_string(), file, ": \"fallback\" must be an artifact path");
      fs::path p = v.get<std::string>();
      s.config.fallback_artifact = p.is_absolute() ? p.string() : (fs::path(models_dir) / p).string();
    } else if (k == "input_pipeline")
      s.input_pipeline = v;
    else if (k == "output_pipeline")
      s.output_pipeline = v;
    else
      fail(file, ": unknown setting \"", k, "\" (workers, threads_per_worker, queue_capacity, max_batch, ",
           "max_batch_wait_ms, cache, cache_mb, cache_ttl_s, fallback, latency_budget_ms, input_pipeline, ",
           "output_pipeline)");
  }
  return s;
}

// The pipelines of a deployed version: the artifact's metadata, overridden by settings.
Pipelines pipelines_for(const std::map<std::string, std::string>& metadata, const Settings& settings) {
  Pipelines p;
  auto from = [&](const char* key, const std::optional<json>& override_json) -> std::optional<json> {
    if (override_json) return override_json;
    auto it = metadata.find(key);
    if (it == metadata.end()) return std::nullopt;
    try {
      return json::parse(it->second);
    } catch (const json::exception& e) {
      fail("metadata entry '", key, "' is not valid JSON: ", e.what());
    }
  };
  if (auto j = from("input_pipeline", settings.input_pipeline)) p.input = parse_input_pipeline(*j);
  if (auto j = from("output_pipeline", settings.output_pipeline)) p.output = parse_output_pipeline(*j);
  return p;
}

int http_status(Status s) {
  switch (s) {
    case Status::Ok:
      return 200;
    case Status::InvalidArgument:
      return 400;
    case Status::NotFound:
      return 404;
    case Status::DeadlineExceeded:
      return 504;
    case Status::Cancelled:
      return 499;
    case Status::Unavailable:
      return 503;
    case Status::Internal:
      return 500;
  }
  return 500;
}

void send_json(httplib::Response& res, int code, const json& body) {
  res.status = code;
  res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int code, const std::string& status, const std::string& message) {
  if (code == 503) res.set_header("Retry-After", "1");
  send_json(res, code, {{"error", message}, {"status", status}});
}

// A deadline in milliseconds as a client spells it: a positive number, all of it.
double deadline_value(const std::string& text, const char* where) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  PITH_CHECK(!text.empty() && end == text.c_str() + text.size() && v > 0 && std::isfinite(v), where,
             " must be a positive number of milliseconds, got '", text, "'");
  return v;
}

bool is_image(const std::string& type) { return type.rfind("image/", 0) == 0; }
bool is_npy(const std::string& type, const std::string& body) {
  return type == "application/x-npy" || (type == "application/octet-stream" && body.rfind("\x93NUMPY", 0) == 0);
}

std::string content_type(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  if (auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  return type;
}

}  // namespace

struct Server::Impl {
  ServerConfig config;
  Engine engine;
  std::unique_ptr<ModelStore> store;
  httplib::Server http;
  std::mutex mutex;  // settings and pipelines; uploads one at a time
  std::mutex upload_mutex;
  std::map<std::string, Settings> settings;                       // by model name
  std::map<std::string, std::map<int64_t, Pipelines>> pipelines;  // by model name, version

  explicit Impl(ServerConfig c) : config(std::move(c)) {
    store = std::make_unique<ModelStore>(config.models_dir);
    routes();
  }

  Settings settings_of(const std::string& name) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (auto it = settings.find(name); it != settings.end()) return it->second;
    }
    const fs::path file = fs::path(config.models_dir) / (name + ".json");
    Settings s = read_settings(fs::is_regular_file(file) ? file.string() : "", config.defaults, config.models_dir);
    s.config.name = name;
    std::lock_guard<std::mutex> lock(mutex);
    settings[name] = s;
    return s;
  }

  // Deploys one version (smoke run included) and records its pipelines.
  std::string deploy(const std::string& name, const StoredVersion& v) {
    const Settings s = settings_of(name);
    DeploymentConfig c = s.config;
    c.name = name;
    const std::string id = engine.deploy(v.path, c, v.version);
    try {
      Pipelines p = pipelines_for(engine.status(name).metadata, s);
      std::lock_guard<std::mutex> lock(mutex);
      pipelines[name][v.version] = std::move(p);
    } catch (const Error& e) {
      // Never leave a version live whose requests cannot be decoded.
      if (!engine.rollback(name, "its pipelines are invalid")) engine.undeploy(name);
      throw ServeError(Status::InvalidArgument, v.path + ": " + e.what());
    }
    return id;
  }

  Pipelines pipelines_of(const std::string& name, int64_t version) {
    std::lock_guard<std::mutex> lock(mutex);
    auto& by_version = pipelines[name];
    auto it = by_version.find(version);
    return it != by_version.end() ? it->second : Pipelines{};
  }

  void load_models() {
    for (auto& m : store->scan()) {
      // The two newest versions: the older becomes the standby for rollback.
      const size_t first = m.versions.size() > 2 ? m.versions.size() - 2 : 0;
      for (size_t i = first; i < m.versions.size(); ++i) {
        try {
          deploy(m.name, m.versions[i]);
        } catch (const std::exception& e) {
          fail("model '", m.name, "' version ", m.versions[i].version, ": ", e.what());
        }
      }
    }
  }

  Clock::time_point deadline_from(double ms) const {
    if (ms <= 0) ms = config.default_deadline_ms;
    if (ms <= 0) return Clock::time_point::max();
    return Clock::now() + std::chrono::microseconds(int64_t(ms * 1000));
  }

  void predict(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    const Engine::Live live = engine.live(name);  // NotFound (404) for an unknown name
    const std::vector<ValueInfo>& declared = live.graph->inputs;
    const Pipelines p = pipelines_of(name, live.version);
    const std::string type = content_type(req);
    std::map<std::string, Tensor> inputs;
    double deadline_ms = 0;
    std::string output = req.has_param("output") ? req.get_param_value("output") : "";
    if (req.has_header("X-Deadline-Ms"))
      deadline_ms = deadline_value(req.get_header_value("X-Deadline-Ms"), "X-Deadline-Ms");
    if (req.has_param("deadline_ms")) deadline_ms = deadline_value(req.get_param_value("deadline_ms"), "deadline_ms");
    auto single_input = [&]() -> const ValueInfo& {
      PITH_CHECK(declared.size() == 1, "this body carries one tensor but the model takes ", declared.size(),
                 " inputs; send JSON {\"inputs\": {...}}");
      return declared[0];
    };
    if (is_image(type)) {
      PITH_CHECK(p.input, "model '", name, "' declares no input pipeline, so it cannot take an image; send tensors");
      const ValueInfo& in = single_input();
      inputs.emplace(in.name,
                     preprocess_image(reinterpret_cast<const uint8_t*>(req.body.data()), req.body.size(), *p.input));
    } else if (is_npy(type, req.body)) {
      const ValueInfo& in = single_input();
      inputs.emplace(in.name, parse_npy(req.body, "request body"));
    } else {
      PITH_CHECK(type.empty() || type == "application/json", "unsupported Content-Type '", type,
                 "' (application/json, application/x-npy, image/jpeg, image/png)");
      json body;
      try {
        body = json::parse(req.body);
      } catch (const json::exception& e) {
        throw ServeError(Status::InvalidArgument, std::string("malformed JSON: ") + e.what());
      }
      PITH_CHECK(body.is_object() && body.contains("inputs"), "the JSON body needs \"inputs\"");
      for (auto& [k, v] : body.items())
        PITH_CHECK(k == "inputs" || k == "deadline_ms" || k == "output", "unknown key \"", k,
                   "\" (inputs, deadline_ms, output)");
      if (body.contains("deadline_ms")) {
        PITH_CHECK(body["deadline_ms"].is_number() && body["deadline_ms"].get<double>() > 0,
                   "\"deadline_ms\" must be a positive number");
        deadline_ms = body["deadline_ms"].get<double>();
      }
      if (body.contains("output")) {
        PITH_CHECK(body["output"].is_string(), "\"output\" must be \"raw\"");
        output = body["output"].get<std::string>();
      }
      inputs = inputs_from_json(body["inputs"], declared);
    }
    PITH_CHECK(output.empty() || output == "raw",
               "output must be \"raw\" (or left out for the model's pipeline), got \"", output, "\"");
    InferResult r = engine.infer(name, inputs, deadline_from(deadline_ms));
    OutputPipeline out_pipeline = output == "raw" ? OutputPipeline{} : p.output;
    json answer = postprocess(r.output_names, r.outputs, out_pipeline);
    answer["model"] = name;
    answer["deployment_id"] = r.deployment_id;
    answer["version"] = r.version;
    answer["latency_ms"] = r.latency_ms;
    answer["cached"] = r.cached;
    answer["fallback"] = r.fallback;
    answer["timestamp_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(r.timestamp.time_since_epoch()).count();
    send_json(res, 200, answer);
  }

  void upload(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    PITH_CHECK(!req.body.empty(), "the body must be a .pith artifact; it is empty");
    PITH_CHECK(config.max_artifact_bytes == 0 || req.body.size() <= config.max_artifact_bytes, "the artifact is ",
               req.body.size(), " bytes, over the server's budget of ", config.max_artifact_bytes);
    PITH_CHECK(req.body.size() >= 8 && req.body.compare(0, 4, "PITH") == 0,
               "the body is not a .pith artifact (no PITH magic)");
    std::lock_guard<std::mutex> lock(upload_mutex);
    const StoredVersion v = store->add_version(name, req.body);
    std::string id;
    try {
      id = deploy(name, v);
    } catch (...) {
      store->remove_version(v);  // the live version stays
      throw;
    }
    send_json(res, 201, {{"deployment_id", id}, {"version", v.version}, {"artifact", v.path}, {"status", "live"}});
  }

  // Runs a handler, turning every failure into a JSON error response.
  template <typename F>
  httplib::Server::Handler guarded(F f) {
    return [this, f](const httplib::Request& req, httplib::Response& res) {
      try {
        (this->*f)(req, res);
      } catch (const ServeError& e) {
        send_error(res, http_status(e.status()), status_name(e.status()), e.what());
      } catch (const Error& e) {
        send_error(res, 400, "invalid_argument", e.what());
      } catch (const json::exception& e) {
        send_error(res, 400, "invalid_argument", std::string("malformed JSON: ") + e.what());
      } catch (const std::bad_alloc&) {
        send_error(res, 500, "internal", "out of memory");
      } catch (const std::exception& e) {
        send_error(res, 500, "internal", e.what());
      }
    };
  }

  void models(const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (auto& n : engine.model_names()) list.push_back(model_status_json(engine.status(n)));
    send_json(res, 200, {{"models", list}});
  }

  void model(const httplib::Request& req, httplib::Response& res) {
    send_json(res, 200, model_status_json(engine.status(req.matches[1])));
  }

  void rollback(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    if (!engine.rollback(name, "requested over HTTP"))
      return send_error(res, 409, "failed_precondition",
                        "model '" + name + "' has no previous version to roll back to");
    const ModelStatus s = engine.status(name);
    send_json(res, 200, {{"deployment_id", s.deployment_id}, {"version", s.version}, {"status", "live"}});
  }

  void health(const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "ok"}, {"models", engine.model_names().size()}});
  }

  void metrics(const httplib::Request&, httplib::Response& res) {
    std::vector<std::pair<std::string, MonitorSnapshot>> snapshots;
    for (auto& n : engine.model_names()) snapshots.emplace_back(n, engine.status(n).monitor);
    res.set_content(prometheus_text(snapshots, process_stats()), "text/plain; version=0.0.4");
  }

  void routes() {
    http.new_task_queue = [threads = config.http_threads] { return new httplib::ThreadPool(size_t(threads)); };
    http.set_payload_max_length(config.max_body_bytes);
    http.set_keep_alive_max_count(100000);
    http.set_tcp_nodelay(true);
    http.Post(R"(/v1/models/([^/:]+):predict)", guarded(&Impl::predict));
    http.Post(R"(/v1/models/([^/:]+)/versions)", guarded(&Impl::upload));
    http.Post(R"(/v1/models/([^/:]+)/rollback)", guarded(&Impl::rollback));
    http.Get(R"(/v1/models/([^/:]+))", guarded(&Impl::model));
    http.Get("/v1/models", guarded(&Impl::models));
    http.Get("/healthz", guarded(&Impl::health));
    http.Get("/metrics", guarded(&Impl::metrics));
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a handler already explained
      if (res.status == 413)
        send_error(res, 413, "payload_too_large", "the request body is over the server's limit");
      else if (res.status == 404)
        send_error(res, 404, "not_found", "no route " + req.method + " " + req.path);
      else
        send_error(res, res.status, "error", "request failed with HTTP " + std::to_string(res.status));
    });
    if (config.log_requests) {
      http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        std::fprintf(stderr, "%s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
      });
    }
  }
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Server::~Server() { stop(); }

void Server::load_models() { impl_->load_models(); }

int Server::bind() {
  auto& c = impl_->config;
  if (c.port == 0) {
    const int port = impl_->http.bind_to_any_port(c.host);
    PITH_CHECK(port > 0, "cannot bind ", c.host, " to any port");
    return port;
  }
  PITH_CHECK(impl_->http.bind_to_port(c.host, c.port), "cannot bind ", c.host, ":", c.port,
             " (in use, or not permitted)");
  return c.port;
}

bool Server::listen() { return impl_->http.listen_after_bind(); }
void Server::stop() {
  if (impl_->http.is_running()) impl_->http.stop();
}
Engine& Server::engine() { return impl_->engine; }

}  // namespace pith::serve
