// myoexo::console — the console's command message: {"command": "estop|reset|resume|stream_on|stream_off|
// record_start|record_stop",
// "token": "..."} (the token may also come in the X-Myoexo-Token header). Parsing is separate from acting so that
// a fuzzer can throw anything at it; it depends on nlohmann-json only.
#pragma once

#include <string>
#include <string_view>

namespace myoexo::console {

enum class CommandKind { estop, reset, resume, stream_on, stream_off, record_start, record_stop };
const char* command_name(CommandKind k) noexcept;

struct ParsedCommand {
  bool ok = false;
  int status = 400;            ///< HTTP status when not ok (400 malformed, 401 token)
  std::string error;           ///< for the client
  CommandKind kind = CommandKind::estop;
};

/// Parses `body` and checks the token (header first, else the body's "token") against `expected` in constant time.
/// Never throws; bounded work for any input.
ParsedCommand parse_command(std::string_view body, std::string_view header_token, std::string_view expected);

}  // namespace myoexo::console
