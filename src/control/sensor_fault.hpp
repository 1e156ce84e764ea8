// myoexo::control — streaming EMG sensor-fault detection (NaN, flat line, saturation, electrode off) per channel.
//
// The supervisor consumes the aggregate flags: any fault -> controlled hold, flagged in its log. Every test is
// per sample with per-channel state, so any chunking of the same signal gives the same flags at the same samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "core/error.hpp"

namespace myoexo::control {

/// Fault bits (a channel can have several at once).
enum SensorFaultBits : std::uint32_t {
  sensor_fault_none = 0u,
  sensor_fault_non_finite = 1u << 0,     ///< NaN or Inf sample
  sensor_fault_flat_line = 1u << 1,      ///< signal not changing (disconnected lead, stuck ADC, stalled source)
  sensor_fault_saturation = 1u << 2,     ///< |x| at or beyond the front-end's full scale
  sensor_fault_electrode_off = 1u << 3,  ///< a large slow offset: a floating input drifts away from the baseline
};
/// "non_finite|flat_line" style text into `buf` (>= 64 chars); returns buf.
const char* sensor_fault_names(std::uint32_t bits, char* buf, std::size_t size) noexcept;

/// Thresholds, in samples and in the signal's own units (samples inside; convert ms at the boundary).
struct SensorFaultSpec {
  std::size_t channels = 0;                ///< >= 1
  double flat_epsilon = 1e-12;             ///< |x[n] - x[n-1]| <= epsilon counts as "no change", >= 0
  std::size_t flat_min_samples = 100;      ///< that many unchanged samples in a row = flat line, >= 2
  double saturation_level = std::numeric_limits<double>::infinity();  ///< |x| >= level is saturated, > 0
  std::size_t saturation_min_samples = 10; ///< consecutive saturated samples to flag, >= 1
  double electrode_off_level = std::numeric_limits<double>::infinity();  ///< |running mean| above = off, > 0
  double mean_alpha = 0.002;               ///< one-pole running-mean coefficient per sample, in (0, 1]
  std::size_t clear_samples = 200;         ///< consecutive clean samples before a fault clears, >= 1
};

/// Defaults for a front-end sampled at fs_hz with full scale +-full_scale (same units as the samples):
/// flat 100 ms, saturation at 99 % of full scale for 10 ms, electrode off at |mean| > 25 % of full scale
/// (time constant 0.5 s), clear after 200 ms clean.
SensorFaultSpec default_sensor_fault_spec(std::size_t channels, double fs_hz, double full_scale);

class SensorFaultDetector {
 public:
  /// Validates the spec; allocates the per-channel state (the only allocation).
  static Result<SensorFaultDetector> create(const SensorFaultSpec& spec);

  /// Consume a chunk, channel-major [channels x n_samples] (as io::Recording): samples[c * n_samples + i].
  /// `samples.size()` must equal channels * n_samples (otherwise nothing is consumed and false is returned).
  /// Returns true when consumed. Real-time safe.
  bool process(std::span<const double> samples, std::size_t n_samples) noexcept;
  /// Consume one multi-channel sample (frame of `channels` values). Real-time safe.
  bool push_frame(std::span<const double> frame) noexcept;

  /// OR of all channels' active faults.
  std::uint32_t faults() const noexcept;
  /// Active faults of channel c (c < channels).
  std::uint32_t channel_faults(std::size_t c) const noexcept { return ch_[c].active; }
  /// Number of times a fault bit became active on any channel (rising edges), since create/reset.
  std::uint64_t fault_onsets() const noexcept { return onsets_; }
  /// Samples per channel consumed since create/reset.
  std::uint64_t samples_seen() const noexcept { return n_seen_; }
  void reset() noexcept;
  const SensorFaultSpec& spec() const noexcept { return spec_; }

 private:
  struct Channel {
    double prev = 0.0;
    bool has_prev = false;
    std::size_t flat_run = 0, sat_run = 0, clean_run = 0;
    double mean = 0.0;
    std::uint32_t active = 0;
  };
  explicit SensorFaultDetector(const SensorFaultSpec& spec) : spec_(spec), ch_(spec.channels) {}
  void step(Channel& ch, double x) noexcept;

  SensorFaultSpec spec_;
  std::vector<Channel> ch_;
  std::uint64_t onsets_ = 0;
  std::uint64_t n_seen_ = 0;
};

}  // namespace myoexo::control
