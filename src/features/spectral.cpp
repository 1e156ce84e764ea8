// Periodogram and the spectral features built on it (definitions in features.hpp).
#include <complex>
#include <cstddef>

#include "features/features.hpp"
#include "features/internal.hpp"

namespace myoexo::features {

void compute_periodogram(std::span<const double> x, double sample_rate_hz, dsp::RealFft& fft,
                         std::span<double> psd) noexcept {
  const std::size_t n = x.size();
  const std::size_t bins = n / 2 + 1;
  if (n == 0 || fft.size() != n || psd.size() < bins || !(sample_rate_hz > 0.0)) return;
  // detrend='constant' (SciPy's default): remove the window mean so DC offset does not swamp bin 0.
  const double mu = refined_mean(x);
  auto in = fft.input();
  for (std::size_t i = 0; i < n; ++i) in[i] = x[i] - mu;
  fft.execute();
  const auto out = fft.output();
  const double scale = 1.0 / (sample_rate_hz * static_cast<double>(n));
  for (std::size_t k = 0; k < bins; ++k) psd[k] = std::norm(out[k]) * scale;
  // One-sided: fold the negative frequencies in; DC and (even n) Nyquist have no mirror image.
  const std::size_t last = (n % 2 == 0) ? bins - 1 : bins;
  for (std::size_t k = 1; k < last; ++k) psd[k] *= 2.0;
}

SpectralFeatures compute_spectral_features(std::span<const double> psd, double sample_rate_hz,
                                           std::size_t window_len) noexcept {
  SpectralFeatures f;
  if (psd.empty() || window_len == 0) return f;
  const double df = sample_rate_hz / static_cast<double>(window_len);
  double total = 0.0, moment = 0.0;
  std::size_t peak = 0;
  for (std::size_t k = 0; k < psd.size(); ++k) {
    total += psd[k];
    moment += static_cast<double>(k) * df * psd[k];
    if (psd[k] > psd[peak]) peak = k;  // strict: the first maximum wins, as numpy.argmax
  }
  if (!(total > 0.0)) return f;
  const double half = 0.5 * total;
  std::size_t median = 0;
  double cum = 0.0;
  for (std::size_t k = 0; k < psd.size(); ++k) {
    cum += psd[k];
    if (cum >= half) {
      median = k;
      break;
    }
  }
  f.tp = total * df;
  f.mnf_hz = moment / total;
  f.mdf_hz = static_cast<double>(median) * df;
  f.pkf_hz = static_cast<double>(peak) * df;
  return f;
}

}  // namespace myoexo::features
