#include "compress/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "runtime/session.h"

namespace pith {

CalibrationMethod parse_calibration_method(const std::string& name) {
  if (name == "minmax") return CalibrationMethod::MinMax;
  if (name == "percentile") return CalibrationMethod::Percentile;
  if (name == "entropy" || name == "kl") return CalibrationMethod::Entropy;
  if (name == "mse") return CalibrationMethod::MSE;
  fail("unknown calibration method '", name, "' (expected minmax, percentile, entropy or mse)");
}

const char* calibration_method_name(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::MinMax:
      return "minmax";
    case CalibrationMethod::Percentile:
      return "percentile";
    case CalibrationMethod::Entropy:
      return "entropy";
    case CalibrationMethod::MSE:
      return "mse";
  }
  return "?";
}

namespace {

// Calls visit(name, float tensor) for every observed value on every batch of `data`.
template <typename Visit>
void observe(const std::shared_ptr<const Graph>& graph, const Tensor& data, const std::vector<std::string>& values,
             const PredictOptions& options, Visit&& visit) {
  PITH_CHECK(graph->inputs.size() == 1, "calibration needs a model with one input; this one has ",
             graph->inputs.size());
  const std::string& input = graph->inputs[0].name;
  auto probe = std::make_shared<Graph>(*graph);
  probe->outputs.clear();
  std::vector<std::string> observed_outputs;
  for (auto& v : values) {
    if (v == input) continue;
    const ValueInfo* info = graph->find_value_info(v);
    ValueInfo out = info ? *info : ValueInfo{v, DType::Float32, std::nullopt};
    out.name = v;
    probe->outputs.push_back(out);
    observed_outputs.push_back(v);
  }
  const bool wants_input = std::find(values.begin(), values.end(), input) != values.end();
  if (probe->outputs.empty()) probe->outputs = graph->outputs;  // only the input is observed
  PITH_CHECK(data.rank() >= 1 && data.dim(0) > 0, "calibration data has shape ", shape_str(data.shape()),
             "; expected [samples, ...]");
  PITH_CHECK(data.dtype() == graph->inputs[0].dtype, "calibration data is ", dtype_name(data.dtype()),
             " but model input '", input, "' takes ", dtype_name(graph->inputs[0].dtype));
  const auto& in_shape = graph->inputs[0].shape;
  if (in_shape) {
    PITH_CHECK(in_shape->size() == size_t(data.rank()), "calibration data has shape ", shape_str(data.shape()),
               " but model input '", input, "' has rank ", in_shape->size());
    for (size_t d = 1; d < in_shape->size(); ++d)
      PITH_CHECK(!(*in_shape)[d].known() || (*in_shape)[d].value == data.dim(int64_t(d)), "calibration data has shape ",
                 shape_str(data.shape()), " but model input '", input, "' needs dimension ", d, " = ",
                 (*in_shape)[d].value);
  }
  SessionOptions so;
  so.threads = options.threads;
  Session session(probe, so);
  const int64_t n = data.dim(0);
  int64_t batch = options.batch > 0 ? options.batch : 64;
  if (in_shape && !in_shape->empty() && (*in_shape)[0].known()) batch = (*in_shape)[0].value;
  const size_t sample_bytes = data.nbytes() / size_t(n);
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t b = std::min(batch, n - start);
    if (in_shape && !in_shape->empty() && (*in_shape)[0].known() && b != batch) break;  // fixed batch: drop the rest
    Shape shape = data.shape();
    shape[0] = b;
    auto* base = static_cast<char*>(const_cast<void*>(data.raw())) + size_t(start) * sample_bytes;
    Tensor x = Tensor::view(data.dtype(), shape, base);
    std::vector<Tensor> outs = session.run({{input, x}});
    if (wants_input) visit(input, x);
    for (size_t i = 0; i < observed_outputs.size(); ++i) {
      const Tensor& t = outs[i];
      visit(observed_outputs[i], t.dtype() == DType::Float32 ? t : cast_tensor(t, DType::Float32));
    }
  }
}

}  // namespace

std::map<std::string, TensorStats> collect_tensor_stats(std::shared_ptr<const Graph> graph, const Tensor& data,
                                                        const std::vector<std::string>& values,
                                                        const PredictOptions& options) {
  std::map<std::string, TensorStats> stats;
  for (auto& v : values) {
    TensorStats& s = stats[v];
    s.min = std::numeric_limits<float>::infinity();
    s.max = -std::numeric_limits<float>::infinity();
  }
  observe(graph, data, values, options, [&](const std::string& name, const Tensor& t) {
    TensorStats& s = stats[name];
    const float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (!std::isfinite(p[i])) continue;
      s.min = std::min(s.min, p[i]);
      s.max = std::max(s.max, p[i]);
    }
  });
  for (auto& [name, s] : stats) {
    if (!(s.min <= s.max)) s.min = s.max = 0;  // nothing finite was seen
    s.hist_lo = std::min(s.min, 0.0f);
    s.hist_hi = std::max(s.max, 0.0f);
    s.histogram.assign(kCalibrationBins, 0.0);
  }
  observe(graph, data, values, options, [&](const std::string& name, const Tensor& t) {
    TensorStats& s = stats[name];
    const float* p = t.data<float>();
    const double width = double(s.hist_hi) - double(s.hist_lo);
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (!std::isfinite(p[i])) continue;
      int64_t bin = width > 0 ? int64_t((double(p[i]) - s.hist_lo) / width * kCalibrationBins) : 0;
      bin = std::clamp<int64_t>(bin, 0, kCalibrationBins - 1);
      s.histogram[size_t(bin)] += 1;
      ++s.count;
    }
  });
  return stats;
}

std::map<std::string, Tensor> collect_activations(std::shared_ptr<const Graph> graph, const Tensor& data,
                                                  const std::vector<std::string>& values, int64_t max_samples,
                                                  const PredictOptions& options) {
  PITH_CHECK(data.rank() >= 1 && data.dim(0) > 0, "calibration data has shape ", shape_str(data.shape()),
             "; expected [samples, ...]");
  const int64_t n = std::min(data.dim(0), max_samples);
  Shape shape = data.shape();
  shape[0] = n;
  Tensor subset = Tensor::view(data.dtype(), shape, const_cast<void*>(data.raw()));
  std::map<std::string, std::vector<Tensor>> parts;
  observe(graph, subset, values, options,
          [&](const std::string& name, const Tensor& t) { parts[name].push_back(t.clone()); });
  std::map<std::string, Tensor> out;
  for (auto& [name, list] : parts) {
    Shape s = list[0].shape();
    int64_t rows = 0;
    for (auto& t : list) rows += t.rank() ? t.dim(0) : 1;
    if (s.empty())
      s = {rows};
    else
      s[0] = rows;
    Tensor all(DType::Float32, s);
    size_t at = 0;
    for (auto& t : list) {
      std::memcpy(static_cast<char*>(all.raw()) + at, t.raw(), t.nbytes());
      at += t.nbytes();
    }
    out[name] = all;
  }
  return out;
}

namespace {

// Candidate clipping windows keep bins [a, b) of the histogram, shrinking both sides
// towards the bin that holds 0 by the same factor.
struct Window {
  int64_t a, b;
};

std::vector<Window> candidate_windows(const TensorStats& s, int64_t min_bins) {
  const int64_t B = int64_t(s.histogram.size());
  const double width = double(s.hist_hi) - double(s.hist_lo);
  const double zero = width > 0 ? -double(s.hist_lo) / width * double(B) : 0.0;
  std::vector<Window> out;
  for (int64_t i = B; i >= min_bins; i -= 8) {
    const double t = double(i) / double(B);
    Window w{int64_t(std::floor(zero - zero * t)), int64_t(std::ceil(zero + (double(B) - zero) * t))};
    w.a = std::clamp<int64_t>(w.a, 0, B);
    w.b = std::clamp<int64_t>(w.b, w.a + 1, B);
    if (w.b - w.a < min_bins && i != B) break;
    out.push_back(w);
  }
  return out;
}

Range window_range(const TensorStats& s, const Window& w) {
  const double B = double(s.histogram.size()), width = double(s.hist_hi) - double(s.hist_lo);
  Range r{float(s.hist_lo + width * double(w.a) / B), float(s.hist_lo + width * double(w.b) / B)};
  r.lo = std::min(r.lo, 0.0f);
  r.hi = std::max(r.hi, 0.0f);
  return r;
}

// KL(P || Q) as TensorRT's calibrator computes it: P is the window's histogram with the
// clipped tails folded into its edge bins; Q is the window's histogram without them,
// quantized to `levels` steps, each step's mass spread evenly over its nonzero bins.
// Clipping shows up as mass P has at the edges and Q lacks. The bin holding 0 is left
// out of both: 0 is exactly representable, and the spike of exact zeros that ReLU
// outputs and image backgrounds have would otherwise favour ever narrower windows.
double kl_divergence(const TensorStats& s, const Window& w, int levels) {
  const auto& h = s.histogram;
  const int64_t nb = w.b - w.a;
  std::vector<double> inside(h.begin() + w.a, h.begin() + w.b);
  std::vector<double> p = inside;
  for (int64_t i = 0; i < w.a; ++i) p.front() += h[size_t(i)];
  for (int64_t i = w.b; i < int64_t(h.size()); ++i) p.back() += h[size_t(i)];
  const double width = double(s.hist_hi) - double(s.hist_lo);
  const int64_t zero_bin =
      std::clamp<int64_t>(int64_t(-double(s.hist_lo) / width * double(h.size())), 0, int64_t(h.size()) - 1) - w.a;
  if (zero_bin >= 0 && zero_bin < nb) p[size_t(zero_bin)] = inside[size_t(zero_bin)] = 0;
  std::vector<double> q(size_t(nb), 0.0);
  for (int j = 0; j < levels; ++j) {
    const int64_t lo = nb * j / levels, hi = std::max(lo + 1, nb * (j + 1) / levels);
    double mass = 0;
    int64_t nonzero = 0;
    for (int64_t i = lo; i < hi && i < nb; ++i) {
      mass += inside[size_t(i)];
      nonzero += p[size_t(i)] > 0;
    }
    if (nonzero == 0) continue;
    for (int64_t i = lo; i < hi && i < nb; ++i)
      if (p[size_t(i)] > 0) q[size_t(i)] = mass / double(nonzero);
  }
  double p_total = 0, q_total = 0;
  for (int64_t i = 0; i < nb; ++i) {
    p_total += p[size_t(i)];
    q_total += q[size_t(i)];
  }
  if (p_total <= 0 || q_total <= 0) return std::numeric_limits<double>::infinity();
  // Bins where P has mass and Q none (a clipped edge bin that was empty inside) get a
  // small floor instead of an infinite term, as TensorRT's smoothing does.
  constexpr double kFloor = 1e-4;
  double kl = 0;
  for (int64_t i = 0; i < nb; ++i) {
    const double pi = p[size_t(i)] / p_total;
    if (pi <= 0) continue;
    const double qi = std::max(q[size_t(i)] / q_total, kFloor * pi);
    kl += pi * std::log(pi / qi);
  }
  return kl;
}

// Expected squared error of quantizing the histogram into `levels` steps over the window:
// step^2 / 12 for values inside, the distance to the nearest edge for clipped ones.
double quantization_mse(const TensorStats& s, const Window& w, int levels) {
  const Range r = window_range(s, w);
  const double step = (double(r.hi) - double(r.lo)) / double(levels - 1);
  const double B = double(s.histogram.size()), width = double(s.hist_hi) - double(s.hist_lo);
  double err = 0;
  for (size_t i = 0; i < s.histogram.size(); ++i) {
    if (s.histogram[i] == 0) continue;
    const double c = s.hist_lo + width * (double(i) + 0.5) / B;
    double e = step * step / 12.0;
    if (c < r.lo) e += (r.lo - c) * (r.lo - c);
    if (c > r.hi) e += (c - r.hi) * (c - r.hi);
    err += s.histogram[i] * e;
  }
  return err;
}

Range percentile_range(const TensorStats& s, double percentile) {
  const auto& h = s.histogram;
  const double total = double(s.count);
  const double tail = total * (100.0 - percentile) / 100.0;
  // A one-sided distribution (all >= 0 or all <= 0) is clipped on its open side only.
  const bool lower_open = s.min<0, upper_open = s.max> 0;
  const double lower_tail = lower_open && upper_open ? tail / 2 : (lower_open ? tail : 0);
  const double upper_tail = lower_open && upper_open ? tail / 2 : (upper_open ? tail : 0);
  int64_t a = 0, b = int64_t(h.size());
  for (double seen = 0; a < b && seen + h[size_t(a)] <= lower_tail; ++a) seen += h[size_t(a)];
  for (double seen = 0; b > a && seen + h[size_t(b - 1)] <= upper_tail; --b) seen += h[size_t(b - 1)];
  return window_range(s, Window{a, std::max(b, a + 1)});
}

}  // namespace

Range choose_range(const TensorStats& s, CalibrationMethod method, int levels, double percentile) {
  Range full{std::min(s.min, 0.0f), std::max(s.max, 0.0f)};
  if (s.count == 0 || s.histogram.empty() || !(full.hi > full.lo)) return full;
  switch (method) {
    case CalibrationMethod::MinMax:
      return full;
    case CalibrationMethod::Percentile: {
      PITH_CHECK(percentile > 50 && percentile <= 100, "percentile must be in (50, 100], got ", percentile);
      Range r = percentile_range(s, percentile);
      return Range{std::max(r.lo, full.lo), std::min(r.hi, full.hi)};
    }
    case CalibrationMethod::Entropy:
    case CalibrationMethod::MSE: {
      double best = std::numeric_limits<double>::infinity();
      Window best_w{0, int64_t(s.histogram.size())};
      for (const Window& w : candidate_windows(s, std::min<int64_t>(levels, int64_t(s.histogram.size())))) {
        const double e =
            method == CalibrationMethod::Entropy ? kl_divergence(s, w, levels) : quantization_mse(s, w, levels);
        if (e < best) {
          best = e;
          best_w = w;
        }
      }
      Range r = window_range(s, best_w);
      return Range{std::max(r.lo, full.lo), std::min(r.hi, full.hi)};
    }
  }
  return full;
}

}  // namespace pith
