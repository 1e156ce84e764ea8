#include "console/command.hpp"

#include <nlohmann/json.hpp>

namespace myoexo::console {

const char* command_name(CommandKind k) noexcept {
  switch (k) {
    case CommandKind::estop: return "estop";
    case CommandKind::reset: return "reset";
    case CommandKind::resume: return "resume";
    case CommandKind::stream_on: return "stream_on";
    case CommandKind::stream_off: return "stream_off";
    case CommandKind::record_start: return "record_start";
    case CommandKind::record_stop: return "record_stop";
  }
  return "unknown";
}

namespace {
// Constant-time comparison: the token must not leak through timing.
bool same_token(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  unsigned char d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}
}  // namespace

ParsedCommand parse_command(std::string_view body, std::string_view header_token, std::string_view expected) {
  ParsedCommand p;
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    p.error = "the body is not JSON";
    return p;
  }
  if (!j.is_object() || !j.contains("command") || !j["command"].is_string()) {
    p.error = "expected {\"command\": \"estop|reset|resume|stream_on|stream_off|record_start|record_stop\"}";
    return p;
  }
  std::string token(header_token);
  if (token.empty() && j.contains("token") && j["token"].is_string()) token = j["token"].get<std::string>();
  if (!same_token(token, expected)) {
    p.status = 401;
    p.error = "a valid session token is needed to command the exoskeleton";
    return p;
  }
  const std::string& c = j["command"].get_ref<const std::string&>();
  for (CommandKind k : {CommandKind::estop, CommandKind::reset, CommandKind::resume, CommandKind::stream_on,
                        CommandKind::stream_off, CommandKind::record_start, CommandKind::record_stop})
    if (c == command_name(k)) {
      p.ok = true;
      p.status = 200;
      p.kind = k;
      return p;
    }
  p.error = "unknown command '" + c.substr(0, 40) + "'";
  return p;
}

}  // namespace myoexo::console
