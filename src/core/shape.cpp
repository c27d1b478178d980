#include "core/shape.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace pith {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

void Shape::reserve(size_t n) {
  if (n <= capacity()) return;
  int64_t* grown = new int64_t[n];
  if (size_) std::memcpy(grown, data(), size_ * sizeof(int64_t));
  delete[] heap_;
  heap_ = grown;
  capacity_ = n;
}

void Shape::resize(size_t n, int64_t value) {
  if (n > capacity()) reserve(std::max(n, 2 * capacity()));
  for (size_t i = size_; i < n; ++i) data()[i] = value;
  size_ = n;
}

void Shape::assign_n(const int64_t* p, size_t n) {
  size_ = 0;
  reserve(n);
  if (n) std::memcpy(data(), p, n * sizeof(int64_t));
  size_ = n;
}

Shape::iterator Shape::insert(const_iterator pos, size_t n, int64_t v) {
  const size_t at = size_t(pos - begin()), old = size_;
  resize(old + n);
  std::copy_backward(data() + at, data() + old, data() + old + n);
  std::fill_n(data() + at, n, v);
  return data() + at;
}

Shape::iterator Shape::insert_n(const_iterator pos, const int64_t* p, size_t n) {
  const size_t at = size_t(pos - begin()), old = size_;
  resize(old + n);
  std::copy_backward(data() + at, data() + old, data() + old + n);
  std::copy_n(p, n, data() + at);
  return data() + at;
}

Shape::iterator Shape::erase(const_iterator first, const_iterator last) {
  const size_t at = size_t(first - begin()), n = size_t(last - first);
  std::copy(begin() + at + n, end(), begin() + at);
  size_ -= n;
  return data() + at;
}

int64_t& Shape::at(size_t i) {
  PITH_CHECK(i < size_, "dimension ", i, " is out of range for rank ", size_);
  return data()[i];
}
const int64_t& Shape::at(size_t i) const {
  PITH_CHECK(i < size_, "dimension ", i, " is out of range for rank ", size_);
  return data()[i];
}

Shape shape_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    PITH_CHECK(da == db || da == 1 || db == 1, "shapes ", shape_str(a), " and ", shape_str(b),
               " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_strides(const Shape& in, const Shape& out) {
  Shape st(out.size(), 0);
  auto own = shape_strides(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) st[off + i] = in[i] == 1 ? 0 : own[i];
  return st;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* what) {
  PITH_CHECK(axis >= -rank && axis < std::max<int64_t>(rank, 1), what, " ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

}  // namespace pith
