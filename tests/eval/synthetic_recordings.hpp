// Synthetic lower-limb-like recordings for the eval tests: 4 EMG channels (RF, BF, VM, ST) + a knee angle (FX)
// at 1 kHz, named like the UCI files (<subject><mar|sen|pie>.txt) so the protocols' loaders accept them.
#pragma once

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

}  // namespace myoexo::eval::synthetic
