#include "deploy/report.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace pith::deploy {

using json = nlohmann::ordered_json;

namespace {

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

const char* status_of(const Plan& plan, size_t i) {
  const Candidate& c = plan.candidates[i];
  if (!c.error.empty()) return "failed";
  if (int(i) == plan.chosen) return "chosen";
  return c.fits() ? "fits" : "rejected";
}

}  // namespace

json report_json(const Plan& plan, const DeployOptions& o, const ReportContext& ctx) {
  const targets::DeviceProfile& p = o.target;
  const json target = targets::profile_json(p);
  const Budgets& b = o.budgets;
  json budgets = {{"max_size_bytes", optional_number(b.max_size_bytes)},
                  {"max_memory_bytes", optional_number(b.max_memory_bytes)},
                  {"max_latency_ms", optional_number(b.max_latency_ms)},
                  {"max_energy_mj", optional_number(b.max_energy_mj)},
                  {"min_accuracy", optional_number(b.min_accuracy)},
                  {"max_accuracy_drop", optional_number(b.max_accuracy_drop)},
                  {"accuracy_floor", plan.accuracy_floor > 0 ? json(plan.accuracy_floor) : json(nullptr)},
                  {"device_ram_bytes", p.ram_bytes},
                  {"device_storage_bytes", p.storage_bytes}};
  json candidates = json::array();
  const double base_bytes = plan.candidates.empty() ? 1.0 : double(plan.candidates[0].artifact_bytes);
  for (size_t i = 0; i < plan.candidates.size(); ++i) {
    const Candidate& c = plan.candidates[i];
    json j = {{"index", i}, {"label", c.label}, {"why", c.why}, {"status", status_of(plan, i)}};
    if (!c.error.empty()) {
      j["error"] = c.error;
    } else {
      j.update({{"techniques", c.techniques},
                {"artifact_bytes", c.artifact_bytes},
                {"ratio_vs_model", double(ctx.model_bytes) / double(c.artifact_bytes)},
                {"ratio_vs_fp32_artifact", base_bytes / double(c.artifact_bytes)},
                {"stored_tensor_bytes", c.stored_tensor_bytes},
                {"parameters", c.parameters},
                {"bits_per_weight", c.parameters ? 8.0 * double(c.stored_tensor_bytes) / double(c.parameters) : 0.0},
                {"memory_bytes", c.memory_bytes},
                {"memory_measured", c.memory_measured},
                {"arena_bytes", c.arena_bytes},
                {"weight_bytes", c.weight_bytes},
                {"host_latency_ms", c.host_latency_ms},
                {"host_roofline_ms", c.host_roofline_ms},
                {"target_latency_ms", c.target_latency_ms},
                {"energy_mj", c.energy_mj},
                {plan.accuracy_is_agreement ? "agreement" : "accuracy", c.accuracy},
                {"sqnr_db", std::isinf(c.sqnr_db) ? json(nullptr) : json(c.sqnr_db)},
                {"violations", c.violations}});
    }
    candidates.push_back(std::move(j));
  }
  json sensitivity = json::array();
  for (auto& [node, db] : plan.sensitivity) sensitivity.push_back({{"node", node}, {"sqnr_db", db}});
  json report = {{"pith_version", ctx.pith_version},
                 {"model", ctx.model},
                 {"model_bytes", ctx.model_bytes},
                 {"output", plan.chosen >= 0 ? json(ctx.output) : json(nullptr)},
                 {"output_bytes", plan.chosen >= 0 ? json(ctx.output_bytes) : json(nullptr)},
                 {"result", plan.chosen >= 0 ? "fits" : "nothing fits"},
                 {"objective", objective_name(o.objective)},
                 {"metric", plan.accuracy_is_agreement ? "top-1 agreement with fp32 (%)" : "top-1 accuracy (%)"},
                 {"samples", o.data.dim(0)},
                 {"target", target},
                 {"budgets", budgets},
                 {"host",
                  {{"fp32_gflops", plan.host.fp32_gflops},
                   {"int8_gops", plan.host.int8_gops},
                   {"bandwidth_gbs", plan.host.bandwidth_gbs}}},
                 {"estimates",
                  "target latency: the target's roofline (sustained throughput and bandwidth of its profile) plus "
                  "the host's measured time beyond its own roofline scaled by the clock ratio; energy: op counts "
                  "and bytes moved with Horowitz, ISSCC 2014 (45 nm)"},
                 {"candidates", candidates},
                 {"sensitivity", sensitivity},
                 {"chosen", plan.chosen >= 0 ? json(plan.chosen) : json(nullptr)},
                 {"closest", plan.closest >= 0 ? json(plan.closest) : json(nullptr)},
                 {"seconds", plan.seconds}};
  return report;
}

namespace {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string num(double v, int digits = 3) {
  std::ostringstream s;
  s.precision(digits);
  s << v;
  return s.str();
}

// Bytes in the unit that reads best: KiB, MiB or GiB.
std::string kib(double bytes) {
  if (bytes >= 1024.0 * 1024 * 1024) return num(bytes / (1024.0 * 1024 * 1024), 4) + " GiB";
  if (bytes >= 1024.0 * 1024) return num(bytes / (1024.0 * 1024), 4) + " MiB";
  return num(bytes / 1024.0, 4) + " KiB";
}

const char* colour(const std::string& status) {
  if (status == "chosen") return "#1a9850";
  if (status == "fits") return "#2c7bb6";
  return "#b0b0b0";
}

// A scatter chart of accuracy (y) against a positive quantity (x, log scale), with a
// dashed line for each limit given.
std::string scatter(const json& report, const std::string& field, const std::string& x_title, double x_limit,
                    double y_floor, const std::string& accuracy_key) {
  constexpr double W = 600, H = 360, L = 64, R = 16, T = 16, B = 48;
  std::vector<const json*> pts;
  for (auto& c : report["candidates"])
    if (c.contains(field) && c.contains(accuracy_key)) pts.push_back(&c);
  double x0 = 1e300, x1 = 0, y0 = 1e300, y1 = -1e300;
  for (auto* c : pts) {
    const double x = std::max((*c)[field].get<double>(), 1e-9), y = (*c)[accuracy_key].get<double>();
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  if (x_limit > 0) x0 = std::min(x0, x_limit), x1 = std::max(x1, x_limit);
  if (y_floor > 0) y0 = std::min(y0, y_floor), y1 = std::max(y1, y_floor);
  if (pts.empty()) return "<p>no measured candidates</p>";
  const double lx0 = std::floor(std::log10(x0) * 4) / 4 - 0.05, lx1 = std::ceil(std::log10(x1) * 4) / 4 + 0.05;
  const double pad = std::max(0.25, (y1 - y0) * 0.08);
  y0 -= pad, y1 += pad;
  auto px = [&](double x) { return L + (std::log10(std::max(x, 1e-9)) - lx0) / (lx1 - lx0) * (W - L - R); };
  auto py = [&](double y) { return T + (y1 - y) / (y1 - y0) * (H - T - B); };
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
    << "\" fill=\"#fafafa\" stroke=\"#888\"/>\n";
  // Ticks at 1-2-5 per decade; finer when the chart spans less than a decade.
  const std::vector<double> mantissas =
      lx1 - lx0 < 1.2 ? std::vector<double>{1, 1.5, 2, 3, 4, 5, 6, 8} : std::vector<double>{1, 2, 5};
  for (int e = int(std::floor(lx0)); e <= int(std::ceil(lx1)); ++e) {
    for (double m : mantissas) {
      const double v = m * std::pow(10.0, e), lv = std::log10(v);
      if (lv < lx0 || lv > lx1) continue;
      s << "<line x1=\"" << px(v) << "\" x2=\"" << px(v) << "\" y1=\"" << T << "\" y2=\"" << H - B
        << "\" stroke=\"#e4e4e4\"/><text x=\"" << px(v) << "\" y=\"" << H - B + 14 << "\" text-anchor=\"middle\">"
        << num(v) << "</text>\n";
    }
  }
  double ystep = 0.5;  // about 8 gridlines
  for (double step : {0.5, 1.0, 2.0, 5.0, 10.0, 20.0})
    if ((y1 - y0) / step >= 4) ystep = step;
  for (double y = std::ceil(y0 / ystep) * ystep; y <= y1; y += ystep)
    s << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << py(y) << "\" y2=\"" << py(y)
      << "\" stroke=\"#e4e4e4\"/><text x=\"" << L - 6 << "\" y=\"" << py(y) + 4 << "\" text-anchor=\"end\">" << num(y)
      << "</text>\n";
  s << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 10 << "\" text-anchor=\"middle\">" << html_escape(x_title)
    << " (log scale)</text>\n";
  s << "<text transform=\"translate(14," << (T + H - B) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << html_escape(report["metric"].get<std::string>()) << "</text>\n";
  if (x_limit > 0)
    s << "<line x1=\"" << px(x_limit) << "\" x2=\"" << px(x_limit) << "\" y1=\"" << T << "\" y2=\"" << H - B
      << "\" stroke=\"#d73027\" stroke-dasharray=\"5,4\"/><text x=\"" << px(x_limit) + 4 << "\" y=\"" << T + 12
      << "\" fill=\"#d73027\">budget</text>\n";
  if (y_floor > 0)
    s << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << py(y_floor) << "\" y2=\"" << py(y_floor)
      << "\" stroke=\"#d73027\" stroke-dasharray=\"5,4\"/><text x=\"" << W - R - 4 << "\" y=\"" << py(y_floor) - 4
      << "\" fill=\"#d73027\" text-anchor=\"end\">accuracy floor</text>\n";
  // Grey first, so that fitting and chosen points are drawn on top.
  std::stable_sort(pts.begin(), pts.end(), [](const json* a, const json* b) {
    auto rank = [](const json* c) {
      const std::string st = (*c)["status"];
      return st == "chosen" ? 2 : st == "fits" ? 1 : 0;
    };
    return rank(a) < rank(b);
  });
  for (auto* c : pts) {
    const std::string st = (*c)["status"];
    const double x = px((*c)[field].get<double>()), y = py((*c)[accuracy_key].get<double>());
    s << "<circle cx=\"" << x << "\" cy=\"" << y << "\" r=\"" << (st == "chosen" ? 7 : 4.5) << "\" fill=\""
      << colour(st) << "\" stroke=\"#333\" stroke-width=\"0.6\"><title>" << html_escape((*c)["label"]) << ": "
      << num((*c)[field].get<double>()) << ", " << num((*c)[accuracy_key].get<double>(), 4) << "</title></circle>";
    s << "<text x=\"" << x + 7 << "\" y=\"" << y - 5 << "\" font-size=\"9\" fill=\"#333\">#" << (*c)["index"].get<int>()
      << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace

std::string report_html(const json& r) {
  const std::string acc = r["metric"].get<std::string>().rfind("top-1 agreement", 0) == 0 ? "agreement" : "accuracy";
  const json& t = r["target"];
  const json& b = r["budgets"];
  const double floor = b["accuracy_floor"].is_number() ? b["accuracy_floor"].get<double>() : 0.0;
  const double size_limit = std::min(b["max_size_bytes"].is_number() ? b["max_size_bytes"].get<double>() : 1e300,
                                     b["device_storage_bytes"].get<double>());
  const double latency_limit = b["max_latency_ms"].is_number() ? b["max_latency_ms"].get<double>() : 0.0;
  // Size chart in KiB.
  json kib_report = r;
  for (auto& c : kib_report["candidates"])
    if (c.contains("artifact_bytes")) c["artifact_kib"] = c["artifact_bytes"].get<double>() / 1024.0;
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pith deploy: "
    << html_escape(r["model"]) << " for " << html_escape(t["name"]) << "</title>\n<style>\n"
    << "body{font-family:sans-serif;margin:24px;color:#222;max-width:1280px}h1{font-size:20px}h2{font-size:16px;"
       "margin-top:28px}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;"
       "text-align:right}td.l,th.l{text-align:left}tr.chosen{background:#e3f4e8}tr.rejected,tr.failed{color:#777}"
       ".charts{display:flex;flex-wrap:wrap;gap:16px}.ok{color:#1a9850;font-weight:bold}.bad{color:#d73027;"
       "font-weight:bold}\n</style></head><body>\n";
  h << "<h1>pith deploy: " << html_escape(r["model"]) << " &rarr; " << html_escape(t["name"]) << "</h1>\n";
  if (r["chosen"].is_number()) {
    const json& c = r["candidates"][r["chosen"].get<size_t>()];
    h << "<p class=\"ok\">Fits: candidate #" << c["index"].get<int>() << ", " << html_escape(c["label"]) << ": "
      << kib(c["artifact_bytes"].get<double>()) << " (" << num(c["ratio_vs_model"].get<double>()) << "x smaller than "
      << "the model file), " << kib(c["memory_bytes"].get<double>()) << " RAM, ~"
      << num(c["target_latency_ms"].get<double>()) << " ms and ~" << num(c["energy_mj"].get<double>())
      << " mJ per inference on the target (estimated), " << acc << " " << num(c[acc].get<double>(), 4)
      << " %. Written to " << html_escape(r["output"].get<std::string>()) << " (" << r["output_bytes"].get<uint64_t>()
      << " bytes with the measured metrics in its metadata).</p>\n";
  } else {
    h << "<p class=\"bad\">Nothing fits.";
    if (r["closest"].is_number()) {
      const json& c = r["candidates"][r["closest"].get<size_t>()];
      h << " Closest: #" << c["index"].get<int>() << " " << html_escape(c["label"]) << ", which breaks:";
      for (auto& v : c["violations"]) h << " " << html_escape(v) << ";";
    }
    h << "</p>\n";
  }
  h << "<p>Target: " << html_escape(t["description"]) << " (" << html_escape(t["kind"]) << ", "
    << html_escape(t["resource_class"]) << "): " << kib(t["ram_bytes"].get<double>()) << " RAM, "
    << kib(t["storage_bytes"].get<double>()) << " storage, " << t["cores"].get<int>() << " core(s) at "
    << num(t["clock_mhz"].get<double>(), 4) << " MHz, " << num(t["fp32_gflops_per_core"].get<double>())
    << " GFLOP/s fp32 and " << num(t["int8_gops_per_core"].get<double>()) << " GOP/s int8 per core, "
    << num(t["memory_bandwidth_gbs"].get<double>()) << " GB/s.<br>Budgets: size &le; " << kib(size_limit)
    << ", memory &le; "
    << kib(std::min(b["max_memory_bytes"].is_number() ? b["max_memory_bytes"].get<double>() : 1e300,
                    b["device_ram_bytes"].get<double>()));
  if (latency_limit > 0) h << ", latency &le; " << num(latency_limit) << " ms";
  if (b["max_energy_mj"].is_number()) h << ", energy &le; " << num(b["max_energy_mj"].get<double>()) << " mJ";
  if (floor > 0) h << ", " << acc << " &ge; " << num(floor, 4) << " %";
  h << ". Objective: " << html_escape(r["objective"]) << ". " << r["samples"].get<int64_t>() << " samples; "
    << r["candidates"].size() << " candidates in " << num(r["seconds"].get<double>()) << " s.</p>\n";
  h << "<div class=\"charts\"><div><h2>Size against " << acc << "</h2>\n"
    << scatter(kib_report, "artifact_kib", "artifact size (KiB)", size_limit < 1e299 ? size_limit / 1024.0 : 0, floor,
               acc)
    << "</div><div><h2>Latency on the target (estimated) against " << acc << "</h2>\n"
    << scatter(r, "target_latency_ms", "latency on " + t["name"].get<std::string>() + " (ms)", latency_limit, floor,
               acc)
    << "</div></div>\n<p>Green: chosen; blue: fits every budget; grey: rejected. Dashed red: the budgets.</p>\n";
  h << "<h2>Candidates</h2>\n<table><tr><th>#</th><th class=\"l\">candidate</th><th class=\"l\">status</th>"
       "<th>size</th><th>x smaller</th><th>bits/weight</th><th>RAM</th><th>host ms</th><th>target ms (est.)</th>"
       "<th>energy mJ (est.)</th><th>"
    << acc << " %</th><th>SQNR dB</th><th class=\"l\">why tried / why rejected</th></tr>\n";
  for (auto& c : r["candidates"]) {
    const std::string st = c["status"];
    h << "<tr class=\"" << st << "\"><td>" << c["index"].get<int>() << "</td><td class=\"l\">"
      << html_escape(c["label"]) << "</td><td class=\"l\">" << st << "</td>";
    if (c.contains("error")) {
      h << "<td colspan=\"10\"></td><td class=\"l\">" << html_escape(c["error"]) << "</td></tr>\n";
      continue;
    }
    h << "<td>" << kib(c["artifact_bytes"].get<double>()) << "</td><td>" << num(c["ratio_vs_model"].get<double>())
      << "</td><td>" << num(c["bits_per_weight"].get<double>()) << "</td><td>" << kib(c["memory_bytes"].get<double>())
      << (c["memory_measured"].get<bool>() ? "" : "*") << "</td><td>" << num(c["host_latency_ms"].get<double>())
      << "</td><td>" << num(c["target_latency_ms"].get<double>()) << "</td><td>" << num(c["energy_mj"].get<double>())
      << "</td><td>" << num(c[acc].get<double>(), 4) << "</td><td>"
      << (c["sqnr_db"].is_number() ? num(c["sqnr_db"].get<double>()) : std::string("&infin;"))
      << "</td><td class=\"l\">" << html_escape(c["why"]);
    for (auto& v : c["violations"]) h << "<br><span class=\"bad\">" << html_escape(v) << "</span>";
    h << "</td></tr>\n";
  }
  h << "</table>\n<p>* RAM from the memory plan (arena, weights as loaded, input), not measured on the host heap. "
       "Target latency and energy are estimates: "
    << html_escape(r["estimates"]) << ".</p>\n";
  if (!r["sensitivity"].empty()) {
    h << "<h2>int8 sensitivity (each layer alone in int8: output SQNR against fp32)</h2>\n<table><tr><th "
         "class=\"l\">layer</th><th>SQNR dB</th></tr>\n";
    for (auto& s : r["sensitivity"])
      h << "<tr><td class=\"l\">" << html_escape(s["node"]) << "</td><td>" << num(s["sqnr_db"].get<double>())
        << "</td></tr>\n";
    h << "</table>\n";
  }
  h << "<h2>Where the target's figures come from</h2>\n<table>";
  for (auto& [k, v] : t["sources"].items())
    h << "<tr><td class=\"l\">" << html_escape(k) << "</td><td class=\"l\">" << html_escape(v.get<std::string>())
      << "</td></tr>\n";
  h << "</table>\n<p>pith " << html_escape(r["pith_version"]) << "</p>\n</body></html>\n";
  return h.str();
}

}  // namespace pith::deploy
