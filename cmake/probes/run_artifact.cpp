// A device's whole inference program: opens a .pith artifact (mmapped, checksummed,
// verified; signature checked with a public key), runs it once on zero inputs and prints
// each output's shape and sum. Linked with a selective kernel registry, its stripped size
// is what a device carries to run that model (scripts/test-aarch64.sh reports it).
// Usage: pith_run_artifact_<set> MODEL.pith [PUBLIC_KEY]
#include <cstdio>
#include <stdexcept>

#include "artifact/session_loader.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s MODEL.pith [PUBLIC_KEY]\n", argv[0]);
    return 2;
  }
  try {
    pith::artifact::LoadOptions options;
    if (argc == 3) options.public_key_file = argv[2];
    auto model = pith::artifact::load_session(argv[1], options);
    std::map<std::string, pith::Tensor> inputs;
    for (auto& info : model.session->inputs()) {
      pith::Shape shape;
      if (!info.shape) throw std::runtime_error("input '" + info.name + "' has no declared shape");
      for (auto& d : *info.shape) shape.push_back(d.known() ? d.value : 1);
      inputs.emplace(info.name, pith::Tensor(info.dtype, shape));  // zero-filled
    }
    auto outputs = model.session->run(inputs);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const pith::Tensor& y = outputs[i];
      double sum = 0;
      if (y.dtype() == pith::DType::Float32)
        for (int64_t j = 0; j < y.numel(); ++j) sum += y.data<float>()[j];
      std::printf("output %zu: %s sum %.6g\n", i, pith::shape_str(y.shape()).c_str(), sum);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
