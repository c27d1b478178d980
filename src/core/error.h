// Errors with context. Every user-facing failure in pith is a pith::Error whose
// message names what was wrong and where (file, node, input); the CLI turns it into
// exit code 1. Kernels and loaders throw; nothing catches and continues silently.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace pith {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Parts>(parts));
  return os.str();
}
}  // namespace detail

template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace pith

// Checks a condition that depends on user data (model, inputs); throws pith::Error.
#define PITH_CHECK(cond, ...)                 \
  do {                                        \
    if (!(cond)) ::pith::fail(__VA_ARGS__);   \
  } while (0)
