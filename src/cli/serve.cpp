// pith serve --models DIR [--port P] [--host H] [--workers N] [--threads-per-worker T]
//            [--queue N] [--max-batch N] [--max-batch-wait-ms W] [--no-cache] [--cache-mb M]
//            [--public-key NAME.pub] [--max-body-mb B] [--max-model-mb S] [--max-latency-ms L]
//            [--deadline-ms D] [--http-threads N] [--log]
// Serves the .pith models of DIR over HTTP (serve/server.h lists the routes) until
// SIGINT or SIGTERM. Options set every model's defaults; DIR/NAME.json overrides them.
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "serve/server.h"

namespace pith::cli {

namespace {

serve::Server* g_server = nullptr;

extern "C" void on_signal(int) {
  if (g_server) g_server->stop();  // httplib's stop only flags the socket: safe here
}

double positive_number(const Args& args, const std::string& name, double fallback) {
  const std::string text = args.get(name);
  if (text.empty()) return fallback;
  const auto v = parse_number(text);
  PITH_CHECK(v && *v > 0, "--", name, " must be a positive number, got '", text, "'");
  return *v;
}

}  // namespace

int cmd_serve(const std::vector<std::string>& argv) {
  Args args = Args::parse(
      argv,
      {"models", "port", "host", "workers", "threads-per-worker", "queue", "max-batch", "max-batch-wait-ms", "cache-mb",
       "public-key", "max-body-mb", "max-model-mb", "max-latency-ms", "deadline-ms", "http-threads"},
      {"no-cache", "log"});
  PITH_CHECK(args.positional.empty() && !args.get("models").empty(), "usage: pith serve --models DIR [--port P] ...");
  serve::ServerConfig c;
  c.models_dir = args.get("models");
  c.host = args.get("host", "127.0.0.1");
  c.port = int(args.get_int("port", 8080, 0));
  PITH_CHECK(c.port <= 65535, "--port must be in [0, 65535]");
  c.http_threads = int(args.get_int("http-threads", 32, 1));
  c.max_body_bytes = size_t(positive_number(args, "max-body-mb", 64) * 1048576.0);
  c.max_artifact_bytes = size_t(positive_number(args, "max-model-mb", 0) * 1048576.0);
  c.default_deadline_ms = positive_number(args, "deadline-ms", 0);
  c.log_requests = args.flag("log");
  serve::DeploymentConfig& d = c.defaults;
  d.workers = int(args.get_int("workers", 1, 1));
  d.threads_per_worker = int(args.get_int("threads-per-worker", 1, 1));
  d.queue_capacity = size_t(args.get_int("queue", 64, 0));
  d.max_batch = args.get_int("max-batch", 1, 1);
  d.max_batch_wait = std::chrono::microseconds(int64_t(1000 * positive_number(args, "max-batch-wait-ms", 0)));
  d.cache = !args.flag("no-cache");
  d.cache_bytes = size_t(positive_number(args, "cache-mb", 64) * 1048576.0);
  d.public_key_file = args.get("public-key");
  d.max_latency_ms = positive_number(args, "max-latency-ms", 0);

  serve::Server server(c);
  server.load_models();
  const int port = server.bind();
  const auto names = server.engine().model_names();
  std::cerr << "pith serve: " << names.size() << " model(s) from " << c.models_dir << " on http://" << c.host << ":"
            << port << std::endl;
  g_server = &server;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const bool ok = server.listen();
  g_server = nullptr;
  std::cerr << "pith serve: stopped" << std::endl;
  return ok ? 0 : 1;
}

}  // namespace pith::cli
