// myoexo::dsp — running a second-order-section design: the causal, stateful `SosFilter` (streaming and
// offline use the same object) and zero-phase `sosfiltfilt` (offline only).
//
// Layouts: acquisition delivers interleaved frames ([frames x channels], sample i of channel c at
// i*channels + c); a Recording holds channel-major samples ([channels x n], c*n + i). The filter accepts
// both. Internally channels are processed in groups of `SosFilter::lanes()` with SIMD across channels
// (one vector lane per channel): every channel always runs the same instruction sequence, so the output
// does not depend on how the input is chunked (bit-identical) nor on the layout it came in.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "dsp/butterworth.hpp"

namespace myoexo::dsp {

class SosFilter {
 public:
  /// A filter running `design` independently on `channels` (>= 1) channels, state zeroed. Allocates all
  /// state and scratch here; process() never allocates. Errors: no sections, a0 == 0, non-finite
  /// coefficients, channels == 0 (invalid_argument). Sections with a0 != 1 are normalised by a0.
  static Result<SosFilter> create(const SosDesign& design, std::size_t channels);

  SosFilter(const SosFilter&) = default;             ///< clones coefficients and state
  SosFilter& operator=(const SosFilter&) = default;
  SosFilter(SosFilter&&) noexcept = default;
  SosFilter& operator=(SosFilter&&) noexcept = default;

  std::size_t channels() const noexcept { return channels_; }
  std::size_t n_sections() const noexcept { return n_sections_; }
  double sample_rate_hz() const noexcept { return sample_rate_hz_; }
  /// Channels per SIMD vector in this build (8 with AVX-512, 4 with AVX, 2 otherwise).
  static std::size_t lanes() noexcept;

  /// Filters interleaved frames: in, out are [frames x channels]; sizes equal and a multiple of
  /// channels(). `out` may be the same memory as `in` (in-place); partial overlap is not allowed.
  /// No allocation. Error (mismatch) on a size problem, leaving the state untouched.
  Status process(std::span<const double> in, std::span<double> out) noexcept;

  /// Filters channel-major data: channel c's `frames` samples start at in[c * channel_stride] (and
  /// out[c * channel_stride]); channel_stride >= frames (0 means frames). Gives bit-identical output to
  /// process() on the same samples interleaved. In-place allowed. No allocation.
  Status process_channel_major(std::span<const double> in, std::span<double> out, std::size_t frames,
                               std::size_t channel_stride = 0) noexcept;

  /// Zeroes the state (as after create()).
  void reset() noexcept;

  /// Sets the state to the steady state of a constant input: channel c starts as if it had seen
  /// first_values[c] forever (scipy: zi = sosfilt_zi(sos) * x0). Size must be channels() (else mismatch).
  Status set_steady_state(std::span<const double> first_values) noexcept;

  /// The state of channel c, [n_sections x 2] (scipy's zi layout for one channel).
  std::vector<double> state(std::size_t channel) const;
  /// Sets channel c's state from [n_sections x 2] values (scipy's zi for one channel).
  Status set_state(std::size_t channel, std::span<const double> zi) noexcept;

 private:
  SosFilter() = default;
  void run_group(std::size_t group, const double* in, std::size_t in_stride, double* out,
                 std::size_t out_stride, std::size_t frames) noexcept;
  // Channel-major worker; reverse = filter the samples last to first (sosfiltfilt's backward pass).
  void run_channel_major(const double* in, double* out, std::size_t frames, std::size_t stride, bool reverse) noexcept;
  friend Status sosfiltfilt(const SosDesign&, std::span<const double>, std::size_t, std::span<double>);

  std::size_t channels_ = 0;
  std::size_t n_sections_ = 0;
  std::size_t n_groups_ = 0;
  double sample_rate_hz_ = 0.0;
  std::vector<double> coef_;         ///< [sections x 5] b0 b1 b2 a1 a2 (normalised by a0)
  std::vector<double> zi_unit_;      ///< [sections x 2] steady state for input 1
  std::vector<double> state_;        ///< [groups x sections x 2 x lanes]
  std::vector<double> scratch_;      ///< [block x lanes] gather buffer for partial groups / channel-major
};

/// Zero-phase filtering equal to scipy.signal.sosfiltfilt(sos, x, padtype='odd', padlen=None):
/// odd extension by padlen = 3 * (2 * n_sections + 1 - min(#(b2 == 0), #(a2 == 0))) samples at both ends,
/// forward pass started at steady state * first extended sample, backward pass likewise, extension cut.
/// in/out are channel-major [channels x n_samples] (a Recording's layout); out may equal in.
/// Errors: signal not longer than padlen (invalid_argument, says both lengths), size mismatch, bad design.
/// Works in `out` plus 2 x padlen x channels doubles for the extensions (offline use; allocates those).
Status sosfiltfilt(const SosDesign& design, std::span<const double> in, std::size_t channels, std::span<double> out);

/// The padding sosfiltfilt uses for `design` (SciPy's default padlen).
std::size_t sosfiltfilt_padlen(const SosDesign& design) noexcept;

}  // namespace myoexo::dsp
