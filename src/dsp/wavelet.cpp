#include "dsp/wavelet.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace myoexo::dsp {

namespace {

// Daubechies-4 decomposition low-pass filter (pywt.Wavelet('db4').dec_lo); the high-pass is the
// quadrature mirror dec_hi[k] = (-1)^(k+1) dec_lo[7-k].
constexpr double kLo[8] = {-0.010597401785069032, 0.0328830116668852,  0.030841381835560764, -0.18703481171909309,
                           -0.027983769416859854, 0.6308807679298589, 0.7148465705529157,   0.2303778133088965};
constexpr std::size_t kTaps = 8;

double hi(std::size_t k) { return (k % 2 == 0 ? -1.0 : 1.0) * kLo[kTaps - 1 - k]; }

// Periodic index: j mod m for j possibly negative.
std::size_t wrap(long long j, std::size_t m) {
  const long long mm = static_cast<long long>(m);
  return static_cast<std::size_t>(((j % mm) + mm) % mm);
}

// One periodized analysis step (pywt 'periodization'): for even m (odd n is extended by its last
// sample), a[i] = sum_k lo[k] x[(2i + 4 - k) mod m], d likewise with hi. The signal is first laid out
// periodically in `ext` (ext[t] = x[(t - 3) mod m], m + 8 values) so the inner loop has no modulo.
void dwt_step(const std::vector<double>& x, std::vector<double>& a, std::vector<double>& d, std::vector<double>& ext) {
  const std::size_t n = x.size();
  const std::size_t m = n + (n % 2);
  ext.resize(m + 8);
  for (std::size_t t = 0; t < m + 8; ++t) {
    const std::size_t j = wrap(static_cast<long long>(t) - 3, m);
    ext[t] = j < n ? x[j] : x[n - 1];
  }
  const std::size_t half = m / 2;
  a.assign(half, 0.0);
  d.assign(half, 0.0);
  double h[kTaps];
  for (std::size_t k = 0; k < kTaps; ++k) h[k] = hi(k);
  for (std::size_t i = 0; i < half; ++i) {
    const double* e = ext.data() + 2 * i + 7;  // e[-k] = x[(2i + 4 - k) mod m]
    double sa = 0.0, sd = 0.0;
    for (std::size_t k = 0; k < kTaps; ++k) {
      sa += kLo[k] * e[-static_cast<std::ptrdiff_t>(k)];
      sd += h[k] * e[-static_cast<std::ptrdiff_t>(k)];
    }
    a[i] = sa;
    d[i] = sd;
  }
}

// Transpose of dwt_step (the step is orthonormal on the even-length extension): returns 2 * a.size()
// samples; the caller trims to the length it needs. Accumulates into the periodic layout, then folds.
std::vector<double> idwt_step(const std::vector<double>& a, const std::vector<double>& d, std::vector<double>& ext) {
  const std::size_t half = a.size();
  const std::size_t m = 2 * half;
  ext.assign(m + 8, 0.0);
  for (std::size_t i = 0; i < half; ++i) {
    double* e = ext.data() + 2 * i + 7;
    for (std::size_t k = 0; k < kTaps; ++k) e[-static_cast<std::ptrdiff_t>(k)] += kLo[k] * a[i] + hi(k) * d[i];
  }
  std::vector<double> x(m, 0.0);
  for (std::size_t t = 0; t < m + 8; ++t) x[wrap(static_cast<long long>(t) - 3, m)] += ext[t];
  return x;
}

double median_abs(const std::vector<double>& v) {
  std::vector<double> a(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) a[i] = std::abs(v[i]);
  if (a.empty()) return 0.0;
  const std::size_t mid = a.size() / 2;
  std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(mid), a.end());
  const double hi_v = a[mid];
  if (a.size() % 2) return hi_v;
  const double lo_v = *std::max_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lo_v + hi_v) / 2.0;  // numpy.median: mean of the two middle values
}

}  // namespace

std::size_t db4_max_level(std::size_t n) noexcept {
  if (n < kTaps - 1) return 0;
  return static_cast<std::size_t>(std::floor(std::log2(static_cast<double>(n) / static_cast<double>(kTaps - 1))));
}

Result<WaveletCoefficients> wavedec_db4(std::span<const double> x, std::size_t levels) {
  if (x.size() < 2) return make_error(ErrorCode::invalid_argument, "wavedec_db4: need at least 2 samples");
  const std::size_t max_level = std::max<std::size_t>(db4_max_level(x.size()), 1);
  if (levels == 0) levels = max_level;
  if (levels > max_level)
    return make_error(ErrorCode::invalid_argument, "wavedec_db4: " + std::to_string(levels) + " levels is more than " +
                                                       std::to_string(max_level) + " for " +
                                                       std::to_string(x.size()) + " samples");
  WaveletCoefficients out;
  out.signal_length = x.size();
  std::vector<double> a(x.begin(), x.end()), na, d, ext;
  std::vector<std::vector<double>> details;
  for (std::size_t l = 0; l < levels; ++l) {
    dwt_step(a, na, d, ext);
    details.push_back(d);
    a.swap(na);
  }
  out.coeffs.push_back(a);
  for (auto it = details.rbegin(); it != details.rend(); ++it) out.coeffs.push_back(*it);
  return out;
}

Result<std::vector<double>> waverec_db4(const WaveletCoefficients& c) {
  if (c.coeffs.size() < 2) return make_error(ErrorCode::mismatch, "waverec_db4: need an approximation and >= 1 detail");
  std::vector<double> a = c.coeffs[0], ext;
  for (std::size_t l = 1; l < c.coeffs.size(); ++l) {
    const auto& d = c.coeffs[l];
    if (a.size() == d.size() + 1) a.pop_back();  // pywt: the previous level had an odd length
    if (a.size() != d.size())
      return make_error(ErrorCode::mismatch, "waverec_db4: level " + std::to_string(l) + " has " +
                                                 std::to_string(d.size()) + " detail coefficients but " +
                                                 std::to_string(a.size()) + " approximation coefficients");
    a = idwt_step(a, d, ext);
  }
  if (a.size() < c.signal_length || a.size() > c.signal_length + 1)
    return make_error(ErrorCode::mismatch, "waverec_db4: coefficients do not match the signal length");
  a.resize(c.signal_length);
  return a;
}

Result<std::vector<double>> denoise_wavelet(std::span<const double> x, const WaveletDenoiseConfig& config,
                                            double* threshold_out) {
  if (!(config.threshold_scale >= 0.0) || !std::isfinite(config.threshold_scale))
    return make_error(ErrorCode::invalid_argument, "denoise_wavelet: threshold_scale must be >= 0");
  auto dec = wavedec_db4(x, config.levels);
  if (!dec) return dec.error();
  auto& c = dec.value();
  const double sigma = median_abs(c.coeffs.back()) / 0.6745;
  const double t = config.threshold_scale * sigma * std::sqrt(2.0 * std::log(static_cast<double>(x.size())));
  if (threshold_out) *threshold_out = t;
  if (t > 0.0) {
    for (std::size_t l = 1; l < c.coeffs.size(); ++l)
      for (double& v : c.coeffs[l]) {
        const double mag = std::abs(v) - t;
        v = mag > 0.0 ? std::copysign(mag, v) : 0.0;  // soft: sign(v) max(|v| - t, 0)
      }
  }
  return waverec_db4(c);
}

}  // namespace myoexo::dsp
