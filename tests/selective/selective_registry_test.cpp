// A selective build (pith_selected_registry, src/runtime/kernel_registry.cpp) linked with
// only Relu and pith.FusedConv: those run, every other operator is unsupported, and the
// program does not even contain the kernels left out.
#include <gtest/gtest.h>

#include "ir/graph.h"
#include "runtime/kernel.h"
#include "runtime/session.h"

namespace pith {

TEST(SelectiveRegistry, KeepsOnlyTheListedKernels) {
  EXPECT_NE(find_kernel("", "Relu"), nullptr);
  EXPECT_NE(find_kernel("pith", "FusedConv"), nullptr);
  EXPECT_EQ(find_kernel("", "Conv"), nullptr);  // FusedConv's base kernel is linked, not registered
  EXPECT_EQ(find_kernel("", "Add"), nullptr);
  EXPECT_EQ(find_kernel("", "Softmax"), nullptr);
  EXPECT_EQ(registered_ops(), (std::vector<std::string>{"Relu", "pith.FusedConv"}));
}

TEST(SelectiveRegistry, RunsWhatItKeepsAndNamesWhatItLacks) {
  auto relu = std::make_shared<Graph>();
  relu->opset = 17;
  relu->inputs.push_back({"x", DType::Float32, std::vector<Dim>{{3, ""}}});
  relu->outputs.push_back({"y", DType::Float32, std::vector<Dim>{{3, ""}}});
  relu->nodes.push_back({"relu", "Relu", "", {"x"}, {"y"}, {}});
  Session session(relu);
  Tensor x(DType::Float32, {3});
  x.data<float>()[0] = -1, x.data<float>()[1] = 0.5f, x.data<float>()[2] = 2;
  auto y = session.run({{"x", x}});
  EXPECT_EQ(y[0].data<float>()[0], 0.0f);
  EXPECT_EQ(y[0].data<float>()[2], 2.0f);

  auto add = std::make_shared<Graph>(*relu);
  add->nodes = {{"add", "Add", "", {"x", "x"}, {"y"}, {}}};
  try {
    Session s(add);
    FAIL() << "a Session over an unregistered operator was created";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Add"), std::string::npos) << e.what();
  }
}

}  // namespace pith
