// The smallest program that ships the runtime: it builds a one-node graph and creates a
// Session (which links every registered kernel, reference and SIMD). Its stripped size
// is the runtime's footprint on a device (scripts/test-aarch64.sh reports it).
#include <memory>

#include "ir/graph.h"
#include "runtime/session.h"

int main() {
  auto g = std::make_shared<pith::Graph>();
  g->opset = 17;
  g->inputs.push_back({"x", pith::DType::Float32, std::vector<pith::Dim>{{4, ""}}});
  g->outputs.push_back({"y", pith::DType::Float32, std::vector<pith::Dim>{{4, ""}}});
  g->nodes.push_back({"relu", "Relu", "", {"x"}, {"y"}, {}});
  pith::Session session(g);
  return session.inputs().size() == 1 ? 0 : 1;
}
