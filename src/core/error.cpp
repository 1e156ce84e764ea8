#include "core/error.hpp"

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
  std::string out = error_code_name(code);
  out += ": ";
  if (!file.empty()) {
    out += file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
  }
  out += reason;
  return out;
}

}  // namespace myoexo
