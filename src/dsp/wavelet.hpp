// myoexo::dsp — discrete wavelet transform (Daubechies-4) and universal-threshold denoising.
//
// Wavelet: "db4" as PyWavelets names it (Daubechies with 4 vanishing moments, 8 filter taps).
// Boundary: periodization (pywt mode='periodization'). Why: it makes the DWT orthonormal and
// non-redundant (ceil(n/2) coefficients per level), so (a) reconstruction is exact by the transpose,
// (b) white noise of std sigma stays white with std sigma in every detail band — the assumption behind the
// universal threshold sigma sqrt(2 ln n) — and (c) coefficient counts are predictable for features. The
// cost is a wrap-around at the ends (a step between the last and first sample leaks into a few border
// coefficients); 'symmetric' would avoid that but is redundant (n + 7 coefficients per level) and not
// orthonormal. Odd lengths follow pywt: the last sample is repeated to make the length even.
// Coefficients equal pywt.wavedec(x, 'db4', mode='periodization') (checked in tests when pywt is present).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace myoexo::dsp {

/// A multi-level decomposition, pywt order: coeffs[0] = approximation at the coarsest level,
/// coeffs[1] = its detail, ..., coeffs[levels] = finest detail d1.
struct WaveletCoefficients {
  std::vector<std::vector<double>> coeffs;
  std::size_t signal_length = 0;  ///< n of the decomposed signal (reconstruction returns n samples)
  std::size_t levels() const noexcept { return coeffs.empty() ? 0 : coeffs.size() - 1; }
};

/// pywt.dwt_max_level(n, 8): floor(log2(n / 7)), 0 when n < 7.
std::size_t db4_max_level(std::size_t n) noexcept;

/// Decomposes x (n >= 2 samples) into `levels` levels (1..db4_max_level(n); 0 = the maximum, as pywt's
/// default). Errors: invalid_argument for n < 2 or too many levels.
Result<WaveletCoefficients> wavedec_db4(std::span<const double> x, std::size_t levels = 0);

/// Inverse of wavedec_db4: returns signal_length samples (exact up to rounding, ~1e-15 relative).
/// Error (mismatch) when the coefficient lengths are inconsistent.
Result<std::vector<double>> waverec_db4(const WaveletCoefficients& c);

struct WaveletDenoiseConfig {
  std::size_t levels = 0;            ///< decomposition levels (0 = maximum for the length)
  /// Threshold scale: t = threshold_scale * sigma * sqrt(2 ln n), sigma = median(|d1|) / 0.6745.
  /// 1 is the universal (VisuShrink) threshold; 0 gives perfect reconstruction.
  double threshold_scale = 1.0;
};

/// Soft-thresholds every detail band (not the approximation) at the universal threshold and
/// reconstructs. Returns the denoised signal (same length). `threshold_out`, when given, receives t.
Result<std::vector<double>> denoise_wavelet(std::span<const double> x, const WaveletDenoiseConfig& config = {},
                                            double* threshold_out = nullptr);

/// Wavelet denoising as a causal stage of a stream: every `hop` samples the last `block` samples of each channel
/// are denoised as denoise_wavelet does (db4, periodization, `levels` levels, soft universal threshold from that
/// block's finest details) and the `hop` samples that end `guard` samples before the block's end are emitted.
/// Why the guard: periodization wraps the block's end onto its start, so the newest samples of a block are the
/// worst reconstructed; keeping `guard` samples back uses samples that have data on both sides.
/// The output is the denoised input delayed by delay_samples() = hop + guard samples (at 1 kHz and the defaults,
/// 32 ms), a delay every decision pays and the latency figures count. Before the first blocks the output is the
/// denoising of a zero-padded past (as a filter's zero initial state).
struct WaveletStreamConfig {
  std::size_t block = 128;       ///< samples denoised together (a multiple of 2^levels, >= 16)
  std::size_t hop = 16;          ///< samples between blocks (1..block - guard)
  std::size_t guard = 16;        ///< samples held back from each block's end (0..block - hop)
  std::size_t levels = 4;        ///< 1..db4_max_level(block)
  double threshold_scale = 1.0;  ///< as WaveletDenoiseConfig::threshold_scale
  std::size_t delay_samples() const noexcept { return hop + guard; }
  bool operator==(const WaveletStreamConfig&) const = default;
};

/// invalid_argument naming the first field out of range.
Status validate_wavelet_stream_config(const WaveletStreamConfig& config);

/// "wavelet db4 4 levels, 128-sample blocks every 16, delay 32 samples".
std::string describe_wavelet_stream(const WaveletStreamConfig& config);

/// The streaming stage (liquid-dsp style: create once, feed chunks, reset). Any chunking of a signal gives the
/// same output as one call; process calls do not allocate.
class WaveletDenoiseStream {
 public:
  static Result<WaveletDenoiseStream> create(const WaveletStreamConfig& config, std::size_t channels);

  /// Interleaved frames [frames x channels]; `out` may be `in`. Error (mismatch) when the sizes disagree.
  Status process(std::span<const double> in, std::span<double> out) noexcept;
  /// Channel-major [channels x frames]; `out` may be `in`.
  Status process_channel_major(std::span<const double> in, std::span<double> out, std::size_t frames) noexcept;
  /// Zero history, as after create.
  void reset() noexcept;

  const WaveletStreamConfig& config() const noexcept { return config_; }
  std::size_t channels() const noexcept { return channels_; }
  std::size_t delay_samples() const noexcept { return config_.delay_samples(); }

 private:
  void denoise_channel(std::size_t c) noexcept;  // block of channel c -> its output queue

  WaveletStreamConfig config_;
  std::size_t channels_ = 0;
  std::size_t phase_ = 0;            // samples since the last hop, shared by every channel
  std::vector<double> ring_;         // [channels x block]: the last `block` inputs, oldest at ring_pos_
  std::size_t ring_pos_ = 0;         // next write position (same for every channel)
  std::vector<double> queue_;        // [channels x hop]: the samples being emitted until the next hop
  std::vector<double> work_, coeffs_, ext_, scratch_;  // one block's transform (shared: one channel at a time)
};

}  // namespace myoexo::dsp
