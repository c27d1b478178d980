// pith bench MODEL [--input ...] [--threads N] [--warmup N] [--iterations N] [--json]
// Times Session::run; with --json the last stdout line is one JSON object. Also reports
// the start-up cost: load_ms (read, verify and optimize the model) and create_ms (the
// Session plus its first run, which packs weights and plans the arena).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "ir/analysis.h"
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
  Args args = Args::parse(argv, {"input", "threads", "warmup", "iterations", "public-key"}, {"json", "profile"});
  PITH_CHECK(args.positional.size() == 1,
             "usage: pith bench MODEL [--input ...] [--threads N] [--warmup N] [--iterations N] [--json]");
  const auto t_load = std::chrono::steady_clock::now();
  auto graph = load_model(args.positional[0], /*optimize=*/true, args.get("public-key"));
  const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_load).count();
  SessionOptions options;
  options.threads = int(args.get_int("threads", 1, 1));
  const int64_t warmup = args.get_int("warmup", 3, 0);
  const int64_t iterations = args.get_int("iterations", 20, 1);
  auto inputs = load_inputs(*graph, args.all("input"));
  auto random = random_inputs(*graph);
  for (auto& [name, t] : random) inputs.emplace(name, t);  // random where not given

  const auto t_create = std::chrono::steady_clock::now();
  Session session(graph, options);
  session.run(inputs);
  const double create_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_create).count();
  for (int64_t i = 0; i < warmup; ++i) session.run(inputs);
  if (args.flag("profile")) {
    // A separate profiled session, so that timing every node does not skew the numbers below.
    SessionOptions profiled = options;
    profiled.profile = true;
    Session prof(graph, profiled);
    prof.run(inputs);
    std::map<std::string, std::pair<double, int>> by_op;
    std::vector<double> total(graph->nodes.size(), 0.0);
    for (int64_t i = 0; i < iterations; ++i) {
      prof.run(inputs);
      for (size_t n = 0; n < total.size(); ++n) total[n] += prof.last_run_stats().node_ms[n];
    }
    double sum = 0;
    for (size_t n = 0; n < total.size(); ++n) {
      auto& node = graph->nodes[n];
      std::string key = (node.domain.empty() ? "" : node.domain + ".") + node.op_type;
      by_op[key].first += total[n] / double(iterations);
      by_op[key].second += 1;
      sum += total[n] / double(iterations);
    }
    std::vector<std::pair<double, std::string>> rows;
    for (auto& [op, v] : by_op) rows.push_back({v.first, op});
    std::sort(rows.rbegin(), rows.rend());
    std::cout << "profile (mean ms per run, by operator)\n";
    for (auto& [ms, op] : rows)
      std::cout << "  " << op << std::string(op.size() < 24 ? 24 - op.size() : 1, ' ') << ms << " ms  ("
                << int(100 * ms / std::max(sum, 1e-9)) << "%, " << by_op[op].second << " nodes)\n";
    std::vector<std::pair<double, size_t>> slow;
    for (size_t n = 0; n < total.size(); ++n) slow.push_back({total[n] / double(iterations), n});
    std::sort(slow.rbegin(), slow.rend());
    std::cout << "slowest nodes\n";
    for (size_t i = 0; i < std::min<size_t>(12, slow.size()); ++i) {
      auto& node = graph->nodes[slow[i].second];
      std::string shapes;
      for (auto& in : node.inputs) {
        if (in.empty()) continue;
        auto shape = static_shape(*graph, in);
        shapes += (shapes.empty() ? "" : " ") + (shape ? shape_str(*shape) : std::string("?"));
      }
      std::cout << "  " << slow[i].first << " ms  " << node.describe() << "  " << shapes;
      if (auto macs = node_macs(*graph, node)) std::cout << "  " << double(*macs) / slow[i].first / 1e6 << " GMAC/s";
      std::cout << "\n";
    }
  }
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
  const RunStats& st = session.last_run_stats();
  size_t arena = st.arena_bytes, lower = st.arena_lower_bound;
  size_t weights = graph->weight_bytes();
  size_t rss = peak_rss_bytes();

  std::cout << "model        " << args.positional[0] << "\n";
  std::cout << "threads      " << options.threads << "\n";
  std::cout << "iterations   " << iterations << " (warmup " << warmup << ")\n";
  std::cout << "median       " << median << " ms\n";
  std::cout << "min          " << ms.front() << " ms\n";
  std::cout << "p90          " << pct(0.9) << " ms\n";
  std::cout << "arena        " << arena << " bytes (lower bound " << lower << ", "
            << (lower ? 100.0 * double(arena) / double(lower) - 100.0 : 0.0) << "% above)\n";
  std::cout << "weights      " << weights << " bytes\n";
  std::cout << "peak RSS     " << rss << " bytes\n";
  std::cout << "load         " << load_ms << " ms (read, verify, optimize)\n";
  std::cout << "create       " << create_ms << " ms (Session and first run: pack weights, plan memory)\n";
  if (args.flag("json")) {
    std::cout << "{\"median_ms\": " << median << ", \"min_ms\": " << ms.front() << ", \"p90_ms\": " << pct(0.9)
              << ", \"arena_bytes\": " << arena << ", \"arena_lower_bound_bytes\": " << lower
              << ", \"weights_bytes\": " << weights << ", \"peak_memory_bytes\": " << rss
              << ", \"threads\": " << options.threads << ", \"iterations\": " << iterations
              << ", \"load_ms\": " << load_ms << ", \"create_ms\": " << create_ms << "}" << std::endl;
  }
  return 0;
}

}  // namespace pith::cli
