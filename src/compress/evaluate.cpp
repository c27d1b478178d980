#include "compress/evaluate.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/session.h"

namespace pith {

namespace {

// Rows of C scores: C is the last dimension.
int64_t row_width(const Tensor& t, const char* what) {
  PITH_CHECK(t.rank() >= 1 && t.dim(-1) > 0, what, " has shape ", shape_str(t.shape()), "; expected [N, classes]");
  return t.dim(-1);
}

std::vector<int64_t> argmax_rows(const Tensor& t, const char* what) {
  const int64_t c = row_width(t, what), rows = t.numel() / c;
  Tensor f = t.dtype() == DType::Float32 ? t : cast_tensor(t, DType::Float32);
  const float* p = f.data<float>();
  std::vector<int64_t> out(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j)
      if (p[r * c + j] > p[r * c + best]) best = j;
    out[size_t(r)] = best;
  }
  return out;
}

}  // namespace

Tensor predict(std::shared_ptr<const Graph> graph, const Tensor& data, const PredictOptions& options) {
  PITH_CHECK(graph->inputs.size() == 1, "evaluation needs a model with one input; this one has ", graph->inputs.size());
  PITH_CHECK(!graph->outputs.empty(), "the model has no outputs");
  const ValueInfo& in = graph->inputs[0];
  PITH_CHECK(data.rank() >= 1 && data.dim(0) > 0, "data has shape ", shape_str(data.shape()),
             "; expected [samples, ...]");
  PITH_CHECK(data.dtype() == in.dtype, "data is ", dtype_name(data.dtype()), " but model input '", in.name, "' takes ",
             dtype_name(in.dtype));
  const int64_t n = data.dim(0);
  int64_t batch = options.batch;
  const bool fixed_batch = in.shape && !in.shape->empty() && (*in.shape)[0].known();
  if (fixed_batch) {
    const int64_t model_batch = (*in.shape)[0].value;
    PITH_CHECK(batch == 0 || batch == model_batch, "model input '", in.name, "' has a fixed batch of ", model_batch,
               "; cannot run batches of ", batch);
    batch = model_batch;
    PITH_CHECK(n % batch == 0, "model input '", in.name, "' has a fixed batch of ", batch, " but the data has ", n,
               " samples (not a multiple)");
  }
  if (batch <= 0) batch = 100;
  if (in.shape && in.shape->size() != size_t(data.rank())) {
    fail("data has shape ", shape_str(data.shape()), " (rank ", data.rank(), ") but model input '", in.name,
         "' has rank ", in.shape->size());
  }

  SessionOptions so;
  so.threads = options.threads;
  Session session(graph, so);
  const size_t sample_bytes = data.nbytes() / size_t(n);
  Tensor result;
  int64_t per_sample = 0;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t b = std::min(batch, n - start);
    Shape shape = data.shape();
    shape[0] = b;
    auto* base = static_cast<char*>(const_cast<void*>(data.raw())) + size_t(start) * sample_bytes;
    Tensor x = Tensor::view(data.dtype(), shape, base);
    std::vector<Tensor> outs = session.run({{in.name, x}});
    const Tensor& y = outs[0];
    PITH_CHECK(y.rank() >= 1 && y.dim(0) == b, "model output '", graph->outputs[0].name, "' has shape ",
               shape_str(y.shape()), " for a batch of ", b, "; expected the batch as its first dimension");
    if (!result.defined()) {
      Shape rs = y.shape();
      rs[0] = n;
      result = Tensor(y.dtype(), rs);
      per_sample = y.numel() / b;
    }
    PITH_CHECK(y.numel() == per_sample * b && y.dtype() == result.dtype(), "model output '", graph->outputs[0].name,
               "' changed shape between batches");
    std::memcpy(static_cast<char*>(result.raw()) + size_t(start * per_sample) * dtype_size(y.dtype()), y.raw(),
                y.nbytes());
  }
  return result;
}

double top1_accuracy(const Tensor& scores, const Tensor& labels) {
  std::vector<int64_t> pred = argmax_rows(scores, "model output");
  const int64_t classes = row_width(scores, "model output");
  PITH_CHECK(dtype_is_int(labels.dtype()), "labels are ", dtype_name(labels.dtype()), "; expected integers");
  PITH_CHECK(size_t(labels.numel()) == pred.size(), "labels have ", labels.numel(), " values but there are ",
             pred.size(), " predictions");
  int64_t correct = 0;
  for (size_t i = 0; i < pred.size(); ++i) {
    const int64_t y = labels.as_int64(int64_t(i));
    PITH_CHECK(y >= 0 && y < classes, "label ", i, " is ", y, "; the model scores ", classes, " classes");
    correct += pred[i] == y;
  }
  return pred.empty() ? 0.0 : double(correct) / double(pred.size());
}

double top1_agreement(const Tensor& scores, const Tensor& reference) {
  PITH_CHECK(scores.shape() == reference.shape(), "outputs have shape ", shape_str(scores.shape()),
             " but the reference's have ", shape_str(reference.shape()));
  std::vector<int64_t> a = argmax_rows(scores, "model output"), b = argmax_rows(reference, "reference output");
  int64_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return a.empty() ? 0.0 : double(same) / double(a.size());
}

double sqnr_db(const Tensor& x, const Tensor& reference) {
  PITH_CHECK(x.shape() == reference.shape(), "outputs have shape ", shape_str(x.shape()), " but the reference's have ",
             shape_str(reference.shape()));
  double signal = 0, noise = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double r = reference.as_double(i), d = r - x.as_double(i);
    signal += r * r;
    noise += d * d;
  }
  if (noise == 0) return std::numeric_limits<double>::infinity();
  if (signal == 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

}  // namespace pith
