// Synthetic, separable multi-channel windows for the LibTorch tests (models/torch and train).
#pragma once

#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "models/torch/network_spec.hpp"

namespace myoexo::test {

/// Class c: channel ch = amplitude(c, ch) * sin(2 pi f_c n + random phase) + 0.3 N(0, 1), with
/// f_c = 0.04 (c + 1) cycles/sample. Row-major [n x channels x length], labels 0..classes-1 in turn.
struct SyntheticWindows {
  std::size_t n = 0, channels = 0, length = 0;
  std::vector<float> x;
  std::vector<int> y;
  std::vector<double> as_double() const { return std::vector<double>(x.begin(), x.end()); }
};

inline SyntheticWindows make_synthetic_windows(std::size_t n, std::size_t channels, std::size_t length,
                                               int classes, unsigned seed) {
  SyntheticWindows s{n, channels, length, std::vector<float>(n * channels * length), std::vector<int>(n)};
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.3);
  std::uniform_real_distribution<double> phase(0.0, 6.283185307179586);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % std::size_t(classes));
    s.y[i] = c;
    const double f = 0.04 * (c + 1), ph = phase(rng);
    for (std::size_t ch = 0; ch < channels; ++ch) {
      const double amp = 0.5 + double((std::size_t(c) + ch) % 3);
      for (std::size_t t = 0; t < length; ++t)
        s.x[(i * channels + ch) * length + t] =
            static_cast<float>(amp * std::sin(6.283185307179586 * f * double(t) + ph) + noise(rng));
    }
  }
  return s;
}

/// A small spec for tests: `channels` named c0.., windows of `length`, classes "a", "b", "c"...
inline models::NetworkSpec tiny_spec(models::ArchKind kind, std::size_t channels = 3, std::size_t length = 64,
                                     int classes = 3) {
  models::NetworkSpec spec;
  spec.input.channel_names.clear();
  for (std::size_t c = 0; c < channels; ++c) spec.input.channel_names.push_back("c" + std::to_string(c));
  spec.input.window_length = length;
  spec.input.window_increment = length / 4;
  for (int k = 0; k < classes; ++k) spec.class_names.push_back(std::string(1, char('a' + k)));
  spec.arch.kind = kind;
  spec.arch.filters = {4, 8};
  spec.arch.kernel_size = 5;
  spec.arch.pool_size = 2;
  spec.arch.frame_length = 16;
  spec.arch.frame_step = 8;
  spec.arch.hidden_size = 12;
  spec.arch.nperseg = 16;
  spec.arch.noverlap = 8;
  return spec;
}

}  // namespace myoexo::test
