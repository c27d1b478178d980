// Errors with context. Every user-facing failure in pith is a pith::Error whose
// message names what was wrong and where (file, node, input); the CLI turns it into
// exit code 1. Kernels and loaders throw; nothing catches and continues silently.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pith {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
// Builds an error message one piece at a time through small out-of-line appends, with the
// formatting of std::ostream's defaults (numbers as `os << v` prints them). The thousands
// of checks with different argument types then each instantiate a row of calls instead of
// a string stream: those instantiations were a sixth of a selective runtime build.
class Message {
 public:
  void add(const char* s);
  void add(std::string_view s);
  void add(const std::string& s) { add(std::string_view(s)); }
  void add(char c);
  void add_signed(long long v);
  void add_unsigned(unsigned long long v);
  void add_floating(double v);
  template <typename T>
  void add(const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      add_signed(v ? 1 : 0);
    } else if constexpr (std::is_same_v<T, signed char> || std::is_same_v<T, unsigned char>) {
      add(char(v));  // as ostream prints them
    } else if constexpr (std::is_enum_v<T>) {
      add_signed(static_cast<long long>(v));
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      add_signed(v);
    } else if constexpr (std::is_integral_v<T>) {
      add_unsigned(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      add_floating(double(v));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      add(std::string_view(v));
    } else {
      std::ostringstream os;  // anything else with an operator<<
      os << v;
      add(std::string_view(os.str()));
    }
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

template <typename... Parts>
std::string concat(const Parts&... parts) {
  Message m;
  (m.add(parts), ...);
  return m.take();
}

[[noreturn]] void throw_error(std::string message);
}  // namespace detail

template <typename... Parts>
[[noreturn, gnu::cold, gnu::noinline]] void fail(const Parts&... parts) {
  detail::throw_error(detail::concat(parts...));
}

}  // namespace pith

// Checks a condition that depends on user data (model, inputs); throws pith::Error.
#define PITH_CHECK(cond, ...)               \
  do {                                      \
    if (!(cond)) ::pith::fail(__VA_ARGS__); \
  } while (0)
