// Cast and CastLike: element type conversion between every numeric type, bool and
// float16/bfloat16 (through core's cast_tensor). Strings are not supported.
#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

void cast_to(KernelContext& ctx, DType to) {
  const Tensor& x = ctx.input(0);
  KERNEL_CHECK(ctx, dtype_is_storable(to) && to != DType::String, "cannot cast to element type ",
               dtype_name(to), " (", int(to), ")");
  KERNEL_CHECK(ctx, dtype_is_storable(x.dtype()), "cannot cast from element type ", dtype_name(x.dtype()));
  if (x.dtype() == to) {
    ctx.set_output(0, x);  // shared storage: kernels never write their inputs
    return;
  }
  ctx.set_output(0, cast_tensor(x, to));
}

// Cast-1 named the target type with a string.
int64_t type_from_name(const KernelContext& ctx, const std::string& name) {
  static const std::pair<const char*, DType> names[] = {
      {"FLOAT", DType::Float32},   {"DOUBLE", DType::Float64},  {"FLOAT16", DType::Float16},
      {"BFLOAT16", DType::BFloat16}, {"INT8", DType::Int8},     {"UINT8", DType::UInt8},
      {"INT16", DType::Int16},     {"UINT16", DType::UInt16},   {"INT32", DType::Int32},
      {"UINT32", DType::UInt32},   {"INT64", DType::Int64},     {"UINT64", DType::UInt64},
      {"BOOL", DType::Bool}};
  for (auto& [n, t] : names)
    if (name == n) return int64_t(t);
  ctx.fail("attribute 'to' names an unsupported type '", name, "'");
}

}  // namespace

void kernel_cast(KernelContext& ctx) {
  const Attribute* attr = ctx.node().attr("to");
  KERNEL_CHECK(ctx, attr != nullptr, "attribute 'to' is required");
  const int64_t to = attr->kind == Attribute::Kind::String ? type_from_name(ctx, attr->s) : ctx.attr_int("to", 0);
  KERNEL_CHECK(ctx, to > 0 && to <= 16, "attribute 'to' = ", to, " is not a supported element type");
  cast_to(ctx, DType(int32_t(to)));
}

void kernel_castlike(KernelContext& ctx) { cast_to(ctx, ctx.input(1).dtype()); }

}  // namespace pith
