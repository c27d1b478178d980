// The kernel registry: one line per kernel in kernels.def (reference) and simd/simd.def
// (SIMD, preferred). Keys are "op" for the default ONNX domain and "domain.op" for others
// (e.g. pith.FusedConv, ai.onnx.preview.training.Adam).
//
// A selective build compiles this file with PITH_SELECTED_OPS naming a header that
// defines `kSelectedOps`, the keys to keep (CMake's pith_selected_registry, from the list
// `pith inspect MODEL --kernels` prints). Every other kernel is then never referenced, so
// the linker leaves it out of the program: a device carries only the kernels its model
// runs, as TFLite's selective build and ONNX Runtime's reduced-operator build do.
#include <map>
#include <string_view>

#include "runtime/kernel.h"

#ifdef PITH_SELECTED_OPS
#include PITH_SELECTED_OPS
#endif

namespace pith {

#define PITH_KERNEL(OP, FN) void FN(KernelContext&);
#define PITH_KERNEL_DOMAIN(DOMAIN, OP, FN) void FN(KernelContext&);
#include "runtime/kernels/kernels.def"
#include "runtime/kernels/simd/simd.def"
#undef PITH_KERNEL
#undef PITH_KERNEL_DOMAIN

namespace {

constexpr bool selected(std::string_view key) {
#ifdef PITH_SELECTED_OPS
  for (std::string_view k : kSelectedOps)
    if (k == key) return true;
  return false;
#else
  (void)key;
  return true;
#endif
}

#ifdef PITH_SELECTED_OPS
// A selective build's list must name registered kernels: a typo fails the build, not the device.
#define PITH_KERNEL(OP, FN) std::string_view(OP),
#define PITH_KERNEL_DOMAIN(DOMAIN, OP, FN) std::string_view(DOMAIN "." OP),
constexpr std::string_view kRegisteredKeys[] = {
#include "runtime/kernels/kernels.def"
#include "runtime/kernels/simd/simd.def"
};
#undef PITH_KERNEL
#undef PITH_KERNEL_DOMAIN
constexpr bool every_selected_key_is_registered() {
  for (std::string_view key : kSelectedOps) {
    bool found = false;
    for (std::string_view k : kRegisteredKeys) found |= k == key;
    if (!found) return false;
  }
  return true;
}
static_assert(every_selected_key_is_registered(),
              "the selected kernels name an operator pith does not register (see pith inspect MODEL --kernels)");
#endif

using Table = std::map<std::string, KernelFn>;

// Adds a kernel when its key is selected. `get` names the kernel inside a generic lambda,
// whose body is compiled only when instantiated here: an unselected kernel is not even
// referenced.
template <bool Selected, typename Get>
void add(Table& table, std::string key, Get get) {
  if constexpr (Selected) table.emplace(std::move(key), get(0));
}

#define PITH_KERNEL(OP, FN) add<selected(OP)>(t, OP, [](auto) { return &FN; });
#define PITH_KERNEL_DOMAIN(DOMAIN, OP, FN) add<selected(DOMAIN "." OP)>(t, DOMAIN "." OP, [](auto) { return &FN; });
const Table& registry() {
  static const Table table = [] {
    Table t;
#include "runtime/kernels/kernels.def"
    return t;
  }();
  return table;
}
const Table& simd_registry() {
  static const Table table = [] {
    Table t;
#include "runtime/kernels/simd/simd.def"
    return t;
  }();
  return table;
}
#undef PITH_KERNEL
#undef PITH_KERNEL_DOMAIN

}  // namespace

std::string kernel_key(const std::string& domain, const std::string& op_type) {
  return domain.empty() || domain == "ai.onnx" ? op_type : domain + "." + op_type;
}

KernelFn find_kernel(const std::string& domain, const std::string& op_type) {
  auto it = simd_registry().find(kernel_key(domain, op_type));
  return it != simd_registry().end() ? it->second : find_reference_kernel(domain, op_type);
}

KernelFn find_reference_kernel(const std::string& domain, const std::string& op_type) {
  auto it = registry().find(kernel_key(domain, op_type));
  return it == registry().end() ? nullptr : it->second;
}

std::vector<std::string> registered_ops() {
  std::vector<std::string> ops;
  for (auto& [k, v] : registry()) ops.push_back(k);
  return ops;
}

}  // namespace pith
