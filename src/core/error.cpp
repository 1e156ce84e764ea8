#include "core/error.hpp"

#include <sstream>

namespace myoexo {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid argument";
    case ErrorCode::io: return "i/o error";
    case ErrorCode::parse: return "parse error";
    case ErrorCode::empty: return "no data";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::network: return "network error";
    case ErrorCode::mismatch: return "mismatch";
  }
  return "error";
}

std::string Error::message() const {
  // A stream, not string concatenation: GCC 12 reports a false -Wrestrict (GCC bug 105329) on
  // std::string appends of literals at -O2.
  std::ostringstream out;
  out << error_code_name(code) << ": ";
  if (!file.empty()) {
    out << file;
    if (line > 0) out << ':' << line;
    out << ": ";
  }
  out << reason;
  return out.str();
}

}  // namespace myoexo
