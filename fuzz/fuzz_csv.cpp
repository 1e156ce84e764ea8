// libFuzzer target: myoexo::io::parse_csv on arbitrary bytes. Any crash, leak, sanitizer report or hang is
// a bug; a rejected input must come back as an Error that names the file.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "io/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  myoexo::io::CsvOptions opts;
  if (size > 0 && (data[0] & 1)) opts.sample_rate_hz = 1000.0;  // exercise both rate paths
  auto rec = myoexo::io::parse_csv(text, "fuzz.csv", opts);
  if (!rec.ok()) {
    if (rec.error().file.empty()) std::abort();
    return 0;
  }
  // Invariants of every accepted recording.
  const auto& r = *rec;
  if (r.samples.size() != r.n_samples * r.n_channels()) std::abort();
  if (r.channel_units.size() != r.n_channels()) std::abort();
  if (!r.sample_labels.empty() && r.sample_labels.size() != r.n_samples) std::abort();
  if (!(r.sample_rate_hz > 0) || !std::isfinite(r.sample_rate_hz)) std::abort();
  if (r.n_samples == 0) std::abort();
  for (double v : r.samples)
    if (!std::isfinite(v)) std::abort();
  return 0;
}
