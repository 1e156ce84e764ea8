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
  // Built with append() only: GCC 12 reports a false -Wrestrict on `out += ":" + std::to_string(line)`.
  std::string out(error_code_name(code));
  out.append(": ");
  if (!file.empty()) {
    out.append(file);
    if (line > 0) out.append(":").append(std::to_string(line));
    out.append(": ");
  }
  out.append(reason);
  return out;
}

}  // namespace myoexo
