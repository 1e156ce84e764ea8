// libFuzzer target: myoexo::io::parse_xdf on arbitrary bytes (the XDF chunk reader and its XML headers). Any crash,
// leak, sanitizer report or hang is a bug; a rejected input must come back as an Error that names the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/io.hpp"
#include "reader_invariants.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto rec = myoexo::io::parse_xdf(bytes, "fuzz.xdf");
  myoexo::fuzz::check_reader_result(rec);
  return 0;
}
