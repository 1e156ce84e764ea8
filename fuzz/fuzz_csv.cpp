// libFuzzer target: myoexo::io::parse_csv on arbitrary bytes. Any crash, leak, sanitizer report or hang is
// a bug; a rejected input must come back as an Error that names the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/io.hpp"
#include "reader_invariants.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  myoexo::io::CsvOptions opts;
  if (size > 0 && (data[0] & 1)) opts.sample_rate_hz = 1000.0;  // exercise both rate paths
  if (size > 0 && (data[0] & 2)) opts.headerless_rate_hz = 500.0;  // and files without a header row
  auto rec = myoexo::io::parse_csv(text, "fuzz.csv", opts);
  myoexo::fuzz::check_reader_result(rec);
  return 0;
}
