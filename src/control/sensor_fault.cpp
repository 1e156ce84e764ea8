#include "control/sensor_fault.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace myoexo::control {

const char* sensor_fault_names(std::uint32_t bits, char* buf, std::size_t size) noexcept {
  if (size == 0) return buf;
  buf[0] = '\0';
  static constexpr const char* kNames[] = {"non_finite", "flat_line", "saturation", "electrode_off"};
  std::size_t used = 0;
  for (int b = 0; b < 4; ++b) {
    if (!(bits & (1u << b))) continue;
    const int n = std::snprintf(buf + used, size - used, "%s%s", used ? "|" : "", kNames[b]);
    if (n < 0 || used + static_cast<std::size_t>(n) >= size) break;
    used += static_cast<std::size_t>(n);
  }
  if (used == 0) std::snprintf(buf, size, "none");
  return buf;
}

SensorFaultSpec default_sensor_fault_spec(std::size_t channels, double fs_hz, double full_scale) {
  SensorFaultSpec s;
  s.channels = channels;
  const auto samples = [&](double sec) { return static_cast<std::size_t>(std::max(1.0, std::round(sec * fs_hz))); };
  s.flat_min_samples = std::max<std::size_t>(2, samples(0.100));
  s.saturation_level = 0.99 * full_scale;
  s.saturation_min_samples = samples(0.010);
  s.electrode_off_level = 0.25 * full_scale;
  s.mean_alpha = std::min(1.0, 1.0 / std::max(1.0, 0.5 * fs_hz));
  s.clear_samples = samples(0.200);
  return s;
}

Result<SensorFaultDetector> SensorFaultDetector::create(const SensorFaultSpec& spec) {
  auto bad = [](const char* why) { return make_error(ErrorCode::invalid_argument, std::string("SensorFaultDetector: ") + why); };
  if (spec.channels == 0) return bad("channels must be >= 1");
  if (!(spec.flat_epsilon >= 0.0) || spec.flat_min_samples < 2) return bad("flat_epsilon >= 0 and flat_min_samples >= 2");
  if (!(spec.saturation_level > 0.0) || spec.saturation_min_samples < 1) return bad("saturation_level > 0 and saturation_min_samples >= 1");
  if (!(spec.electrode_off_level > 0.0)) return bad("electrode_off_level must be > 0");
  if (!(spec.mean_alpha > 0.0 && spec.mean_alpha <= 1.0)) return bad("mean_alpha must be in (0, 1]");
  if (spec.clear_samples < 1) return bad("clear_samples must be >= 1");
  return SensorFaultDetector(spec);
}

void SensorFaultDetector::step(Channel& ch, double x) noexcept {
  std::uint32_t raw = 0;
  if (!std::isfinite(x)) {
    raw |= sensor_fault_non_finite;  // the previous value and the mean keep their last finite state
  } else {
    if (ch.has_prev && std::abs(x - ch.prev) <= spec_.flat_epsilon) {
      ++ch.flat_run;
    } else {
      ch.flat_run = 1;  // this sample starts a new run of equal values
    }
    if (ch.flat_run >= spec_.flat_min_samples) raw |= sensor_fault_flat_line;
    ch.sat_run = std::abs(x) >= spec_.saturation_level ? ch.sat_run + 1 : 0;
    if (ch.sat_run >= spec_.saturation_min_samples) raw |= sensor_fault_saturation;
    ch.mean += spec_.mean_alpha * (x - ch.mean);
    if (std::abs(ch.mean) > spec_.electrode_off_level) raw |= sensor_fault_electrode_off;
    ch.prev = x;
    ch.has_prev = true;
  }
  const std::uint32_t rising = raw & ~ch.active;
  onsets_ += static_cast<std::uint64_t>(std::popcount(rising));
  ch.active |= raw;
  // Hysteresis: a fault clears only after clear_samples clean samples, so an intermittent fault cannot toggle
  // the supervisor in and out of hold at the sample rate.
  if (raw == 0) {
    if (ch.active != 0 && ++ch.clean_run >= spec_.clear_samples) {
      ch.active = 0;
      ch.clean_run = 0;
    }
  } else {
    ch.clean_run = 0;
  }
}

bool SensorFaultDetector::process(std::span<const double> samples, std::size_t n_samples) noexcept {
  if (samples.size() != spec_.channels * n_samples) return false;
  for (std::size_t c = 0; c < spec_.channels; ++c) {
    Channel& ch = ch_[c];
    const double* x = samples.data() + c * n_samples;
    for (std::size_t i = 0; i < n_samples; ++i) step(ch, x[i]);
  }
  n_seen_ += n_samples;
  return true;
}

bool SensorFaultDetector::push_frame(std::span<const double> frame) noexcept {
  if (frame.size() != spec_.channels) return false;
  for (std::size_t c = 0; c < spec_.channels; ++c) step(ch_[c], frame[c]);
  ++n_seen_;
  return true;
}

std::uint32_t SensorFaultDetector::faults() const noexcept {
  std::uint32_t f = 0;
  for (const auto& ch : ch_) f |= ch.active;
  return f;
}

void SensorFaultDetector::reset() noexcept {
  for (auto& ch : ch_) ch = Channel{};
  onsets_ = 0;
  n_seen_ = 0;
}

}  // namespace myoexo::control
