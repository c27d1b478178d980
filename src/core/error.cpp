#include "core/error.h"

#include <cstdio>

namespace pith::detail {

void Message::add(const char* s) { text_ += s; }
void Message::add(std::string_view s) { text_ += s; }
void Message::add(char c) { text_ += c; }
void Message::add_signed(long long v) { text_ += std::to_string(v); }
void Message::add_unsigned(unsigned long long v) { text_ += std::to_string(v); }

void Message::add_floating(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);  // std::ostream's default: 6 significant digits
  text_ += buf;
}

void throw_error(std::string message) { throw Error(message); }

}  // namespace pith::detail
