// Synthetic lower-limb-like recordings for the eval tests: 4 EMG channels (RF, BF, VM, ST) + a knee angle (FX)
// at 1 kHz, named like the UCI files (<subject><mar|sen|pie>.txt) so the protocols' loaders accept them.
#pragma once

#include <cmath>
#include <random>
#include <string>

#include "io/recording.hpp"

namespace myoexo::eval::synthetic {

/// The channel of the class (gait RF, sitting BF, standing VM) carries unit-variance noise, the other EMG
/// channels `off_class_amplitude` times that; FX is noise around 10 deg. Same (n, seed) -> same samples.
inline io::Recording make_recording(const std::string& subject, const std::string& label, std::size_t n,
                                    unsigned seed, double off_class_amplitude = 0.2) {
  io::Recording r;
  r.sample_rate_hz = 1000.0;
  r.channel_names = {"RF", "BF", "VM", "ST", "FX"};
  r.channel_units = {"mV", "mV", "mV", "mV", "deg"};
  r.n_samples = n;
  r.subject_id = subject;
  r.label = label;
  const std::string suffix = label == "gait" ? "mar" : label == "sitting" ? "sen" : "pie";
  r.source_path = "/synthetic/" + subject + suffix + ".txt";
  r.samples.resize(5 * n);
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd;
  const int cls = label == "gait" ? 0 : label == "sitting" ? 1 : 2;
  for (std::size_t c = 0; c < 5; ++c)
    for (std::size_t i = 0; i < n; ++i)
      r.samples[c * n + i] = (c == std::size_t(cls) ? 1.0 : off_class_amplitude) * nd(rng) + (c == 4 ? 10.0 : 0.0);
  return r;
}

/// The knee angle of make_angle_recording: 40 +- 30 deg at 0.25 Hz plus a slower drift, flexion positive.
inline double angle_at(std::size_t i, double phase) {
  const double t = double(i) / 1000.0;
  return 40.0 + 30.0 * std::sin(2 * 3.14159265358979323846 * 0.25 * t + phase) +
         5.0 * std::sin(2 * 3.14159265358979323846 * 0.05 * t);
}

/// EMG whose amplitude grows with the knee angle (RF, VM) or falls with it (BF, ST); FX holds the angle, negated
/// when `flexion_negative` (a goniometer mounted the other way round).
inline io::Recording make_angle_recording(const std::string& subject, const std::string& label, std::size_t n,
                                          unsigned seed, bool flexion_negative, double phase) {
  io::Recording r = make_recording(subject, label, n, seed);
  std::mt19937 rng(seed + 1000);
  std::normal_distribution<double> nd;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = angle_at(i, phase);
    const double up = 0.05 + a / 80.0, down = 0.05 + (90.0 - a) / 80.0;
    r.samples[0 * n + i] = up * nd(rng);
    r.samples[1 * n + i] = down * nd(rng);
    r.samples[2 * n + i] = 0.7 * up * nd(rng);
    r.samples[3 * n + i] = 0.7 * down * nd(rng);
    r.samples[4 * n + i] = flexion_negative ? -a : a;
  }
  return r;
}

}  // namespace myoexo::eval::synthetic
