// Server: `pith serve` — the Engine (engine.h) over HTTP/1.1 (cpp-httplib), serving the
// models of a folder (model_store.h).
//
//   POST /v1/models/{name}:predict    JSON {"inputs": {...}, "deadline_ms": 5, "output": "raw"}
//                                     (tensor_codec.h), .npy bytes (application/x-npy), or an
//                                     image (image/jpeg, image/png) through the model's input
//                                     pipeline; answered through its output pipeline
//   GET  /v1/models                   every model: versions, status, monitor
//   GET  /v1/models/{name}            one model
//   POST /v1/models/{name}/versions   the body is a new .pith: stored as the next version,
//                                     checked (signature, size and latency budgets, a smoke
//                                     run), then swapped in atomically; a failing upload is
//                                     removed and the live version stays
//   POST /v1/models/{name}/rollback   the previous version live again
//   GET  /healthz                     200 while serving
//   GET  /metrics                     Prometheus text exposition
// Errors are JSON {"error": message, "status": name} with 400 (bad request), 404 (unknown
// model or route), 409 (nothing to roll back to), 413 (body too large), 503 (queue full,
// with Retry-After), 504 (deadline exceeded) or 500; the server keeps serving.
//
// Per-model settings in DIR/NAME.json (all optional): workers, threads_per_worker,
// queue_capacity, max_batch, max_batch_wait_ms, cache, cache_mb, cache_ttl_s, fallback
// (an artifact path, relative to DIR), latency_budget_ms, input_pipeline, output_pipeline
// (these two override the artifact's metadata entries of the same names).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "serve/engine.h"

namespace pith::serve {

struct ServerConfig {
  std::string models_dir;
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (bind() returns it)
  int http_threads = 32;
  size_t max_body_bytes = size_t(64) << 20;
  DeploymentConfig defaults;       // for every model, before its settings file (max_latency_ms: a budget)
  size_t max_artifact_bytes = 0;   // uploads larger than this are refused (0: no limit)
  double default_deadline_ms = 0;  // for requests that name none (0: none)
  bool log_requests = false;       // one line per request on stderr
};

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();

  // Deploys every model in the folder; throws an Error naming the first that fails.
  void load_models();
  // Binds the socket; returns the port (the chosen one when config.port is 0).
  int bind();
  // Serves until stop(); returns false if the server could not listen.
  bool listen();
  void stop();
  Engine& engine();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pith::serve
