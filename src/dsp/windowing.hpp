// myoexo::dsp — overlapping windows over a signal: whole-recording start indices (offline) and, further
// down, the streaming windower fed in chunks (live). Both define the same windows: window k covers samples
// [k*increment, k*increment + length).
#pragma once

#include <cstddef>
#include <vector>

namespace myoexo::dsp {

/// Start indices of every complete window of `length` samples, advancing by `increment`, over `n_samples`.
/// Empty when n_samples < length. length >= 1 and increment >= 1 (0 yields no windows).
inline std::vector<std::size_t> window_starts(std::size_t n_samples, std::size_t length, std::size_t increment) {
  std::vector<std::size_t> starts;
  if (length == 0 || increment == 0 || n_samples < length) return starts;
  starts.reserve((n_samples - length) / increment + 1);
  for (std::size_t s = 0; s + length <= n_samples; s += increment) starts.push_back(s);
  return starts;
}

}  // namespace myoexo::dsp
