// Shape: the vector interface over in-place and spilled storage, and the conversions.
#include "core/shape.h"

#include <gtest/gtest.h>

#include <numeric>

#include "core/error.h"

namespace pith {
namespace {

Shape iota_shape(size_t n) {
  Shape s(n);
  std::iota(s.begin(), s.end(), int64_t(1));
  return s;
}

TEST(Shape, BehavesLikeAVectorInPlaceAndSpilled) {
  for (size_t n : {size_t(0), size_t(3), Shape::kInline, Shape::kInline + 1, size_t(40)}) {
    Shape s = iota_shape(n);
    std::vector<int64_t> v(s.begin(), s.end());
    ASSERT_EQ(s.size(), n);
    EXPECT_TRUE(s == v);
    EXPECT_EQ(std::vector<int64_t>(s), v);
    Shape copy = s, moved = Shape(s);
    EXPECT_EQ(copy, s);
    EXPECT_EQ(moved, s);
    Shape assigned{9, 9};
    assigned = moved;  // in place <- spilled and back
    EXPECT_EQ(assigned, s);
    Shape taken = std::move(moved);
    EXPECT_EQ(taken, s);
    EXPECT_TRUE(moved.empty());
    // Edits as on a vector, across the in-place limit.
    for (int64_t x : {7, 8, 9}) {
      s.push_back(x);
      v.push_back(x);
    }
    s.insert(s.begin(), -1);
    v.insert(v.begin(), -1);
    s.insert(s.begin() + 2, {5, 6});
    v.insert(v.begin() + 2, {5, 6});
    s.insert(s.end(), s.begin(), s.begin() + 3);  // from itself
    const std::vector<int64_t> head(v.begin(), v.begin() + 3);
    v.insert(v.end(), head.begin(), head.end());
    s.erase(s.begin() + 1);
    v.erase(v.begin() + 1);
    s.erase(s.begin(), s.begin() + 2);
    v.erase(v.begin(), v.begin() + 2);
    EXPECT_TRUE(s == v) << shape_str(s);
    s.resize(2);
    v.resize(2);
    s.resize(12, 4);
    v.resize(12, 4);
    EXPECT_TRUE(s == v) << shape_str(s);
    EXPECT_EQ(s.back(), 4);
    EXPECT_EQ(*s.rbegin(), 4);
  }
}

TEST(Shape, ComparesAndConverts) {
  const Shape a{1, 3, 224, 224};
  const std::vector<int64_t> v{1, 3, 224, 224};
  const Shape from_vector = v;
  EXPECT_EQ(from_vector, a);
  EXPECT_TRUE(a == v && v == a);
  EXPECT_TRUE(a != Shape({1, 3}));
  EXPECT_TRUE(Shape({1, 3}) < a);
  EXPECT_EQ(Shape(3, 1), Shape({1, 1, 1}));
  EXPECT_EQ(shape_numel(a), 150528);
  EXPECT_EQ(shape_strides(a), Shape({150528, 50176, 224, 1}));
  EXPECT_THROW(a.at(4), Error);
}

}  // namespace
}  // namespace pith
