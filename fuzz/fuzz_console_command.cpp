// libFuzzer target: the console's command message parser. Any bytes, as body and as header token: never crashes,
// never accepts without the right token, and an accepted command is one of the five.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "console/command.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::string_view kToken = "0123456789abcdef0123";
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  // The first byte picks a header token: none, the right one, or a slice of the input.
  const std::size_t split = size ? data[0] % 3 : 0;
  const std::string_view body = size ? all.substr(1) : all;
  const std::string_view header = split == 0 ? std::string_view() : split == 1 ? kToken : body.substr(0, body.size() / 2);
  const auto p = myoexo::console::parse_command(body, header, kToken);
  if (p.ok) {
    if (p.status != 200) std::abort();
    const bool header_ok = header == kToken;
    const bool body_token = header.empty() && body.find(kToken) != std::string_view::npos;
    if (!header_ok && !body_token) std::abort();  // accepted without the token
  } else if (p.status != 400 && p.status != 401) {
    std::abort();
  }
  return 0;
}
