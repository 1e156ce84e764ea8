// Shared by the reader fuzz targets: what every reader result must satisfy, whatever the bytes were.
#pragma once

#include <cmath>
#include <cstdlib>

#include "io/io.hpp"

namespace myoexo::fuzz {

/// Aborts (a finding for libFuzzer) when a rejected input's Error names no file, or an accepted recording is
/// inconsistent: buffer size vs channels x samples, units, per-sample labels, rate, empty data, non-finite values.
inline void check_reader_result(const Result<io::Recording>& rec) {
  if (!rec.ok()) {
    if (rec.error().file.empty()) std::abort();
    return;
  }
  const auto& r = *rec;
  if (r.samples.size() != r.n_samples * r.n_channels()) std::abort();
  if (r.channel_units.size() != r.n_channels()) std::abort();
  if (!r.sample_labels.empty() && r.sample_labels.size() != r.n_samples) std::abort();
  if (!(r.sample_rate_hz > 0) || !std::isfinite(r.sample_rate_hz)) std::abort();
  if (r.n_samples == 0) std::abort();
  for (double v : r.samples)
    if (!std::isfinite(v)) std::abort();
}

}  // namespace myoexo::fuzz
