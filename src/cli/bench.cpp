// pith bench MODEL [--input ...] [--threads N] [--warmup N] [--iterations N] [--json]
// Times Session::run; with --json the last stdout line is one JSON object.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "runtime/session.h"

namespace pith::cli {

namespace {
size_t peak_rss_bytes() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return size_t(u.ru_maxrss) * 1024;  // Linux reports KiB
}
}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
  Args args = Args::parse(argv, {"input", "threads", "warmup", "iterations"}, {"json"});
  PITH_CHECK(args.positional.size() == 1,
             "usage: pith bench MODEL [--input ...] [--threads N] [--warmup N] [--iterations N] [--json]");
  auto graph = load_model(args.positional[0]);
  SessionOptions options;
  options.threads = int(args.get_int("threads", 1, 1));
  const int64_t warmup = args.get_int("warmup", 3, 0);
  const int64_t iterations = args.get_int("iterations", 20, 1);
  auto inputs = load_inputs(*graph, args.all("input"));
  auto random = random_inputs(*graph);
  for (auto& [name, t] : random) inputs.emplace(name, t);  // random where not given

  Session session(graph, options);
  for (int64_t i = 0; i < warmup; ++i) session.run(inputs);
  std::vector<double> ms;
  for (int64_t i = 0; i < iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    session.run(inputs);
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, size_t(p * double(ms.size() - 1) + 0.5))]; };
  double median = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  size_t arena = session.last_run_stats().peak_activation_bytes;
  size_t weights = graph->weight_bytes();
  size_t rss = peak_rss_bytes();

  std::cout << "model        " << args.positional[0] << "\n";
  std::cout << "threads      " << options.threads << "\n";
  std::cout << "iterations   " << iterations << " (warmup " << warmup << ")\n";
  std::cout << "median       " << median << " ms\n";
  std::cout << "min          " << ms.front() << " ms\n";
  std::cout << "p90          " << pct(0.9) << " ms\n";
  std::cout << "activations  " << arena << " bytes (peak alive at once)\n";
  std::cout << "weights      " << weights << " bytes\n";
  std::cout << "peak RSS     " << rss << " bytes\n";
  if (args.flag("json")) {
    std::cout << "{\"median_ms\": " << median << ", \"min_ms\": " << ms.front() << ", \"p90_ms\": " << pct(0.9)
              << ", \"arena_bytes\": " << arena << ", \"weights_bytes\": " << weights
              << ", \"peak_memory_bytes\": " << rss << ", \"threads\": " << options.threads
              << ", \"iterations\": " << iterations << "}" << std::endl;
  }
  return 0;
}

}  // namespace pith::cli
