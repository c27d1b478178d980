// Shapes: dimension lists with the helpers every kernel needs (element counts,
// strides, numpy broadcasting, axis normalization).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

namespace pith {

// A list of dimensions with the interface of std::vector<int64_t> (and conversions to
// and from it), holding up to kInline dimensions in place: creating, copying and
// resizing the shapes of tensors up to that rank allocates nothing, which is what lets
// Session::run perform no heap allocation. Longer shapes spill to the heap.
class Shape {
 public:
  using value_type = int64_t;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = int64_t&;
  using const_reference = const int64_t&;
  using pointer = int64_t*;
  using const_pointer = const int64_t*;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;
  static constexpr size_t kInline = 8;

  Shape() noexcept = default;
  Shape(std::initializer_list<int64_t> dims) { assign_n(dims.begin(), dims.size()); }
  explicit Shape(size_t n, int64_t value = 0) { assign(n, value); }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  Shape(It first, It last) {
    assign(first, last);
  }
  Shape(const std::vector<int64_t>& dims) { assign_n(dims.data(), dims.size()); }  // NOLINT: implicit by design
  Shape(const Shape& other) { assign_n(other.data(), other.size()); }
  Shape(Shape&& other) noexcept { take(other); }
  ~Shape() { delete[] heap_; }
  Shape& operator=(const Shape& other) {
    if (this != &other) assign_n(other.data(), other.size());
    return *this;
  }
  Shape& operator=(Shape&& other) noexcept {
    if (this != &other) {
      delete[] heap_;
      heap_ = nullptr;
      take(other);
    }
    return *this;
  }
  Shape& operator=(std::initializer_list<int64_t> dims) {
    assign_n(dims.begin(), dims.size());
    return *this;
  }
  operator std::vector<int64_t>() const { return std::vector<int64_t>(begin(), end()); }  // NOLINT

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return heap_ ? capacity_ : kInline; }
  int64_t* data() { return heap_ ? heap_ : inline_; }
  const int64_t* data() const { return heap_ ? heap_ : inline_; }
  int64_t& operator[](size_t i) { return data()[i]; }
  const int64_t& operator[](size_t i) const { return data()[i]; }
  int64_t& at(size_t i);
  const int64_t& at(size_t i) const;
  int64_t& front() { return data()[0]; }
  const int64_t& front() const { return data()[0]; }
  int64_t& back() { return data()[size_ - 1]; }
  const int64_t& back() const { return data()[size_ - 1]; }
  iterator begin() { return data(); }
  iterator end() { return data() + size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size_; }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

  // The rarer and longer operations are out of line (shape.cpp): shapes are everywhere,
  // and inlined they made the runtime's code a tenth larger.
  void reserve(size_t n);
  void clear() { size_ = 0; }
  void resize(size_t n, int64_t value = 0);
  void push_back(int64_t v) {
    if (size_ == capacity()) reserve(2 * capacity());
    data()[size_++] = v;
  }
  int64_t& emplace_back(int64_t v) {
    push_back(v);
    return back();
  }
  void pop_back() { --size_; }
  void assign(size_t n, int64_t value) {
    clear();
    resize(n, value);
  }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  void assign(It first, It last) {
    if constexpr (std::is_same_v<It, int64_t*> || std::is_same_v<It, const int64_t*>) {
      assign_n(first, size_t(last - first));
    } else if constexpr (std::is_same_v<It, std::vector<int64_t>::iterator> ||
                         std::is_same_v<It, std::vector<int64_t>::const_iterator>) {
      assign_n(first == last ? nullptr : &*first, size_t(last - first));
    } else {
      clear();
      if constexpr (std::is_base_of_v<std::forward_iterator_tag, typename std::iterator_traits<It>::iterator_category>)
        reserve(size_t(std::distance(first, last)));
      for (; first != last; ++first) push_back(int64_t(*first));
    }
  }
  void assign(std::initializer_list<int64_t> dims) { assign_n(dims.begin(), dims.size()); }

  iterator insert(const_iterator pos, int64_t v) { return insert(pos, size_t(1), v); }
  iterator insert(const_iterator pos, size_t n, int64_t v);
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  iterator insert(const_iterator pos, It first, It last) {
    const Shape values(first, last);  // the source may be this shape
    return insert_n(pos, values.data(), values.size());
  }
  iterator insert(const_iterator pos, std::initializer_list<int64_t> dims) {
    return insert_n(pos, dims.begin(), dims.size());
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last);
  void swap(Shape& other) noexcept {
    Shape t(std::move(other));
    other = std::move(*this);
    *this = std::move(t);
  }

  friend bool operator==(const Shape& a, const Shape& b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }
  friend bool operator<(const Shape& a, const Shape& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const Shape& a, const std::vector<int64_t>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const std::vector<int64_t>& a, const Shape& b) { return b == a; }
  friend bool operator!=(const Shape& a, const std::vector<int64_t>& b) { return !(a == b); }
  friend bool operator!=(const std::vector<int64_t>& a, const Shape& b) { return !(b == a); }

 private:
  void assign_n(const int64_t* p, size_t n);  // p may not point into this shape
  iterator insert_n(const_iterator pos, const int64_t* p, size_t n);
  void take(Shape& other) noexcept {
    size_ = other.size_;
    capacity_ = other.capacity_;
    heap_ = other.heap_;
    if (!heap_) std::memcpy(inline_, other.inline_, size_ * sizeof(int64_t));
    other.heap_ = nullptr;
    other.capacity_ = 0;
    other.size_ = 0;
  }

  int64_t inline_[kInline];
  int64_t* heap_ = nullptr;  // when more than kInline dimensions were ever held
  size_t size_ = 0;
  size_t capacity_ = 0;  // of heap_
};

int64_t shape_numel(const Shape& s);    // 1 for a scalar (rank 0)
Shape shape_strides(const Shape& s);    // row-major, in elements
std::string shape_str(const Shape& s);  // "[1, 3, 224, 224]"

// numpy broadcasting of two or more shapes; throws pith::Error naming both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b);

// Strides of `in` seen through the broadcast to `out` (0 where broadcast).
Shape broadcast_strides(const Shape& in, const Shape& out);

// Maps a possibly negative axis into [0, rank); throws if out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* what = "axis");

}  // namespace pith
