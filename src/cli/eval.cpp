// pith eval MODEL --data X.npy [--labels Y.npy] [--reference MODEL] [--batch N] [--threads N] [--json]
// Runs MODEL over every sample of X (first axis) and scores output 0: top-1 accuracy
// with labels; top-1 agreement and SQNR against --reference (e.g. the uncompressed model).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "compress/evaluate.h"
#include "core/npy.h"

namespace pith::cli {

int cmd_eval(const std::vector<std::string>& argv) {
  const char* usage =
      "usage: pith eval MODEL --data X.npy [--labels Y.npy] [--reference MODEL] [--batch N] [--threads N] "
      "[--json]";
  Args args = Args::parse(argv, {"data", "labels", "reference", "batch", "threads", "public-key"}, {"json"});
  PITH_CHECK(args.positional.size() == 1, usage);
  PITH_CHECK(!args.get("data").empty(), "--data X.npy is required\n", usage);
  const std::string labels_path = args.get("labels"), reference_path = args.get("reference");
  PITH_CHECK(!labels_path.empty() || !reference_path.empty(),
             "give --labels Y.npy (accuracy) or --reference MODEL (agreement and SQNR), or both\n", usage);
  PredictOptions options;
  options.threads = int(args.get_int("threads", 1, 1));
  options.batch = args.get_int("batch", 0, 1);

  Tensor data = read_npy(args.get("data"));
  Tensor labels;
  if (!labels_path.empty()) {
    labels = read_npy(labels_path);
    PITH_CHECK(data.rank() >= 1 && labels.numel() == data.dim(0), labels_path, ": ", labels.numel(), " labels for ",
               data.rank() >= 1 ? data.dim(0) : 0, " samples in ", args.get("data"));
  }
  auto graph = load_model(args.positional[0], /*optimize=*/true, args.get("public-key"));
  const auto t0 = std::chrono::steady_clock::now();
  Tensor scores = predict(graph, data, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int64_t n = data.dim(0);

  double accuracy = NAN, agreement = NAN, sqnr = NAN, reference_accuracy = NAN;
  if (labels.defined()) accuracy = top1_accuracy(scores, labels);
  if (!reference_path.empty()) {
    Tensor ref = predict(load_model(reference_path, /*optimize=*/true), data, options);
    agreement = top1_agreement(scores, ref);
    sqnr = sqnr_db(scores, ref);
    if (labels.defined()) reference_accuracy = top1_accuracy(ref, labels);
  }

  if (args.flag("json")) {
    std::cout << "{\"model\":\"" << json_escape(args.positional[0]) << "\",\"samples\":" << n
              << ",\"accuracy\":" << json_number(accuracy)
              << ",\"reference_accuracy\":" << json_number(reference_accuracy)
              << ",\"agreement\":" << json_number(agreement) << ",\"sqnr_db\":" << json_number(sqnr)
              << ",\"seconds\":" << json_number(seconds)
              << ",\"ms_per_sample\":" << json_number(1e3 * seconds / double(n)) << "}\n";
    return 0;
  }
  std::printf("%s: %lld samples in %.2f s (%.3f ms/sample)\n", args.positional[0].c_str(), (long long)n, seconds,
              1e3 * seconds / double(n));
  if (labels.defined()) std::printf("top-1 accuracy %.2f%%\n", 100 * accuracy);
  if (!reference_path.empty()) {
    if (labels.defined()) std::printf("reference top-1 accuracy %.2f%%\n", 100 * reference_accuracy);
    std::printf("agreement with the reference %.2f%%, SQNR %.1f dB\n", 100 * agreement, sqnr);
  }
  return 0;
}

}  // namespace pith::cli
