#include <gtest/gtest.h>

#include "core/npy.h"

namespace pith {

TEST(Npy, RoundTripsEveryDtype) {
  for (DType t : {DType::Float32, DType::Float64, DType::Float16, DType::Int8, DType::UInt8, DType::Int16,
                  DType::UInt16, DType::Int32, DType::UInt32, DType::Int64, DType::UInt64, DType::Bool}) {
    Tensor a(t, {2, 3});
    for (int64_t i = 0; i < a.numel(); ++i) std::memset(static_cast<char*>(a.raw()) + i * dtype_size(t), int(i % 2), 1);
    Tensor b = parse_npy(serialize_npy(a), "mem");
    EXPECT_EQ(b.dtype(), t);
    EXPECT_EQ(b.shape(), a.shape());
    EXPECT_EQ(0, std::memcmp(a.raw(), b.raw(), a.nbytes())) << dtype_name(t);
  }
}

TEST(Npy, RoundTripsScalarAndVector) {
  Tensor s = Tensor::scalar<float>(2.5f);
  Tensor s2 = parse_npy(serialize_npy(s), "mem");
  EXPECT_EQ(s2.rank(), 0);
  EXPECT_EQ(s2.data<float>()[0], 2.5f);
  Tensor v = Tensor::from_vector<int64_t>({1, 2, 3}, {3});
  Tensor v2 = parse_npy(serialize_npy(v), "mem");
  EXPECT_EQ(v2.shape(), Shape({3}));
}

TEST(Npy, RejectsGarbageWithAMessage) {
  try {
    parse_npy("hello world, not numpy", "x.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.npy"), std::string::npos);
  }
  std::string good = serialize_npy(Tensor(DType::Float32, {4, 4}));
  EXPECT_THROW(parse_npy(good.substr(0, good.size() - 5), "t.npy"), Error);
  EXPECT_THROW(parse_npy(good.substr(0, 20), "t.npy"), Error);
}

TEST(Half, ConvertsExactlyAndRoundsToNearestEven) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);
  EXPECT_EQ(float_to_half(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(0.0f), 0);
  for (uint32_t h = 0; h < 0x7c00; ++h) EXPECT_EQ(float_to_half(half_to_float(uint16_t(h))), h);
}

}  // namespace pith
