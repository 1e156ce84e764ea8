// Shared helpers for the session tests: a small two-class LDA pipeline model (rest / gait) trained on synthetic
// EMG in mV, recordings to replay, and a MyoWare-like quantisation (codes centred at mid-scale, ~41 codes/mV).
#pragma once

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/recording.hpp"
#include "realtime/board_profile.hpp"
#include "session/model.hpp"

namespace myoexo::session::test {

/// The knee angle of make_angle_recording at time t [deg], flexion positive.
inline double knee_angle_at(double t, unsigned seed) {
  return 40.0 + 30.0 * std::sin(2.0 * 3.14159265358979323846 * 0.25 * t + 0.7 * double(seed));
}

/// n seconds of 4-channel EMG in mV named RF BF VM ST: "rest" = small noise; "gait" = bursts (1 s on, 1 s off)
/// of larger, channel-dependent noise. The recording's label is `label`.
inline io::Recording make_recording(const std::string& label, double seconds, unsigned seed) {
  io::Recording r;
  r.sample_rate_hz = 1000.0;
  r.n_samples = std::size_t(seconds * 1000.0);
  r.channel_names = {"RF", "BF", "VM", "ST"};
  r.channel_units.assign(4, "mV");
  r.label = label;
  r.source_path = label + std::to_string(seed) + ".txt";
  r.samples.resize(4 * r.n_samples);
  std::mt19937 gen(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (std::size_t i = 0; i < r.n_samples; ++i) {
    const bool on = label == "gait" && std::fmod(double(i) / 1000.0, 2.0) < 1.0;
    for (std::size_t c = 0; c < 4; ++c) r.samples[c * r.n_samples + i] = (on ? 0.4 + 0.1 * double(c) : 0.05) * noise(gen);
  }
  return r;
}

/// n seconds of EMG whose amplitude follows a knee angle (40 +- 30 deg at 0.25 Hz): RF and VM grow with flexion,
/// BF and ST fall; channel FX holds the angle in degrees (negated when `flexion_negative`). Label "standing" (the
/// standing knee flexion, intent lift) unless given.
inline io::Recording make_angle_recording(double seconds, unsigned seed, bool flexion_negative = false,
                                          const std::string& label = "standing") {
  io::Recording r = make_recording("rest", seconds, seed);
  r.label = label;
  r.source_path = label + "_angle" + std::to_string(seed) + ".txt";
  r.channel_names.push_back("FX");
  r.channel_units.push_back("deg");
  r.samples.resize(5 * r.n_samples);
  std::mt19937 gen(seed + 7);
  std::normal_distribution<double> noise(0.0, 1.0);
  const std::size_t n = r.n_samples;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = knee_angle_at(double(i) / 1000.0, seed);
    const double up = 0.05 + a / 80.0, down = 0.05 + (90.0 - a) / 80.0;
    r.samples[0 * n + i] = up * noise(gen);
    r.samples[1 * n + i] = down * noise(gen);
    r.samples[2 * n + i] = 0.7 * up * noise(gen);
    r.samples[3 * n + i] = 0.7 * down * noise(gen);
    r.samples[4 * n + i] = flexion_negative ? -a : a;
  }
  return r;
}

/// The HTD LDA pipeline model (20-450 Hz, 250/50) trained on rest and gait recordings.
inline std::shared_ptr<const PipelineModel> make_model() {
  std::vector<io::Recording> train{make_recording("rest", 20.0, 1), make_recording("gait", 20.0, 2)};
  auto m = train_pipeline_model(train, PipelineModel{});
  if (!m) return nullptr;
  return std::make_shared<const PipelineModel>(std::move(*m));
}

/// An lda_context LDA (rest / standing) with a knee-angle regressor trained on angle-modulated recordings.
inline std::shared_ptr<const PipelineModel> make_angle_model(KneeAngleTraining kt = {}) {
  std::vector<io::Recording> train{make_recording("rest", 20.0, 1), make_angle_recording(40.0, 3),
                                   make_angle_recording(40.0, 4, /*flexion_negative=*/true)};
  // rest has no goniometer: give it a straight, still knee (5 deg)
  io::Recording& rest = train[0];
  rest.channel_names.push_back("FX");
  rest.channel_units.push_back("deg");
  rest.samples.resize(5 * rest.n_samples, 5.0);
  auto m = train_pipeline_model(train, lda_context_model(750));
  if (!m) return nullptr;
  auto k = train_knee_angle_regressor(train, std::move(*m), kt);
  if (!k) return nullptr;
  return std::make_shared<const PipelineModel>(std::move(*k));
}

/// `rec` as a MyoWare 2.0 RAW board on a 5 V Uno would send it: integer codes around mid-scale.
inline io::Recording to_board_codes(const io::Recording& rec, const realtime::BoardProfile& b) {
  io::Recording out = rec;
  out.channel_units.assign(out.channel_names.size(), "adc");
  for (double& x : out.samples)
    x = std::clamp(std::round(x / b.millivolts_per_code() + b.zero_code()), 0.0, b.max_code());
  return out;
}

/// The codes turned back into mV exactly as the session does ((code - zero) * mV per code).
inline io::Recording codes_to_mv(const io::Recording& codes, const realtime::BoardProfile& b) {
  io::Recording out = codes;
  out.channel_units.assign(out.channel_names.size(), "mV");
  for (double& x : out.samples) x = (x - b.zero_code()) * b.millivolts_per_code();
  return out;
}

}  // namespace myoexo::session::test
