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

}  // namespace myoexo::dsp
