// myoexo::realtime (internal) — reading a small TOML file (board profiles, cue protocols) into a table, a syntax
// error becoming a parse error with the file and line. Only .cpp files include it (toml++ stays out of the public
// headers).
#pragma once

#include <filesystem>
#include <string>

#include <toml++/toml.h>

#include "core/error.hpp"

namespace myoexo::realtime::detail {

inline Result<toml::table> parse_toml_file(const std::filesystem::path& path) {
  try {
    return toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCode::parse, path.string(), std::size_t(e.source().begin.line), std::string(e.description()));
  }
}

}  // namespace myoexo::realtime::detail
