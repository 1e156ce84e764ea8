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

// Periodic layout of one level's input (pywt 'periodization'): x has n samples, m = n + (n % 2) (an odd
// length is extended by its last sample), ext[t] = x[(t - 3) mod m] for t in [0, m + 8), so the filter loops
// below need no modulo.
void lay_out_periodic(const double* x, std::size_t n, double* ext) {
  const std::size_t m = n + (n % 2);
  for (std::size_t t = 0; t < m + 8; ++t) {
    const std::size_t j = wrap(static_cast<long long>(t) - 3, m);
    ext[t] = j < n ? x[j] : x[n - 1];
  }
}

// One analysis step over a laid-out signal of even length 2 * half: a[i] = sum_k lo[k] x[(2i + 4 - k) mod m],
// d likewise with hi.
void analysis_step(const double* ext, std::size_t half, double* a, double* d) {
  double h[kTaps];
  for (std::size_t k = 0; k < kTaps; ++k) h[k] = hi(k);
  for (std::size_t i = 0; i < half; ++i) {
    const double* e = ext + 2 * i + 7;  // e[-k] = x[(2i + 4 - k) mod m]
    double sa = 0.0, sd = 0.0;
    for (std::size_t k = 0; k < kTaps; ++k) {
      sa += kLo[k] * e[-static_cast<std::ptrdiff_t>(k)];
      sd += h[k] * e[-static_cast<std::ptrdiff_t>(k)];
    }
    a[i] = sa;
    d[i] = sd;
  }
}

// Transpose of analysis_step (the step is orthonormal on the even-length extension): writes 2 * half samples
// to x (which may alias neither a nor d); ext (2 * half + 8 values) is scratch. Accumulates into the periodic
// layout, then folds.
void synthesis_step(const double* a, const double* d, std::size_t half, double* ext, double* x) {
  const std::size_t m = 2 * half;
  std::fill(ext, ext + m + 8, 0.0);
  for (std::size_t i = 0; i < half; ++i) {
    double* e = ext + 2 * i + 7;
    for (std::size_t k = 0; k < kTaps; ++k) e[-static_cast<std::ptrdiff_t>(k)] += kLo[k] * a[i] + hi(k) * d[i];
  }
  std::fill(x, x + m, 0.0);
  for (std::size_t t = 0; t < m + 8; ++t) x[wrap(static_cast<long long>(t) - 3, m)] += ext[t];
}

void dwt_step(const std::vector<double>& x, std::vector<double>& a, std::vector<double>& d, std::vector<double>& ext) {
  const std::size_t n = x.size();
  const std::size_t half = (n + (n % 2)) / 2;
  ext.resize(2 * half + 8);
  lay_out_periodic(x.data(), n, ext.data());
  a.assign(half, 0.0);
  d.assign(half, 0.0);
  analysis_step(ext.data(), half, a.data(), d.data());
}

std::vector<double> idwt_step(const std::vector<double>& a, const std::vector<double>& d, std::vector<double>& ext) {
  ext.resize(2 * a.size() + 8);
  std::vector<double> x(2 * a.size());
  synthesis_step(a.data(), d.data(), a.size(), ext.data(), x.data());
  return x;
}

// numpy.median(|v|) with `scratch` (>= n values) as working space.
double median_abs(const double* v, std::size_t n, double* scratch) {
  if (n == 0) return 0.0;
  for (std::size_t i = 0; i < n; ++i) scratch[i] = std::abs(v[i]);
  const std::size_t mid = n / 2;
  std::nth_element(scratch, scratch + mid, scratch + n);
  const double hi_v = scratch[mid];
  if (n % 2) return hi_v;
  const double lo_v = *std::max_element(scratch, scratch + mid);
  return (lo_v + hi_v) / 2.0;  // the mean of the two middle values
}

// Soft threshold: sign(v) max(|v| - t, 0).
void soft_threshold(double* v, std::size_t n, double t) {
  for (std::size_t i = 0; i < n; ++i) {
    const double mag = std::abs(v[i]) - t;
    v[i] = mag > 0.0 ? std::copysign(mag, v[i]) : 0.0;
  }
}

double universal_threshold(double scale, double sigma, std::size_t n) {
  return scale * sigma * std::sqrt(2.0 * std::log(static_cast<double>(n)));
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
  std::vector<double> scratch(c.coeffs.back().size());
  const double sigma = median_abs(c.coeffs.back().data(), c.coeffs.back().size(), scratch.data()) / 0.6745;
  const double t = universal_threshold(config.threshold_scale, sigma, x.size());
  if (threshold_out) *threshold_out = t;
  if (t > 0.0)
    for (std::size_t l = 1; l < c.coeffs.size(); ++l) soft_threshold(c.coeffs[l].data(), c.coeffs[l].size(), t);
  return waverec_db4(c);
}

Status validate_wavelet_stream_config(const WaveletStreamConfig& c) {
  auto bad = [](const std::string& m) { return make_error(ErrorCode::invalid_argument, "wavelet stream: " + m); };
  if (c.levels == 0 || c.levels > 12) return bad("levels must be 1..12");
  const std::size_t unit = std::size_t{1} << c.levels;
  if (c.block < 16 || c.block > 65536 || c.block % unit != 0)
    return bad("block must be 16..65536 and a multiple of 2^levels = " + std::to_string(unit) + " (got " +
               std::to_string(c.block) + ")");
  if (c.levels > db4_max_level(c.block))
    return bad(std::to_string(c.levels) + " levels is more than " + std::to_string(db4_max_level(c.block)) + " for " +
               std::to_string(c.block) + "-sample blocks");
  if (c.hop == 0 || c.hop + c.guard > c.block) return bad("hop must be >= 1 and hop + guard <= block");
  if (!(c.threshold_scale >= 0.0) || !std::isfinite(c.threshold_scale)) return bad("threshold_scale must be >= 0");
  return {};
}

std::string describe_wavelet_stream(const WaveletStreamConfig& c) {
  return "wavelet db4 " + std::to_string(c.levels) + " levels, " + std::to_string(c.block) + "-sample blocks every " +
         std::to_string(c.hop) + ", delay " + std::to_string(c.delay_samples()) + " samples";
}

Result<WaveletDenoiseStream> WaveletDenoiseStream::create(const WaveletStreamConfig& config, std::size_t channels) {
  if (Status s = validate_wavelet_stream_config(config); !s) return s.error();
  if (channels == 0) return make_error(ErrorCode::invalid_argument, "wavelet stream: channels must be >= 1");
  WaveletDenoiseStream w;
  w.config_ = config;
  w.channels_ = channels;
  w.ring_.assign(channels * config.block, 0.0);
  w.queue_.assign(channels * config.hop, 0.0);
  w.work_.assign(config.block, 0.0);
  w.coeffs_.assign(config.block, 0.0);
  w.ext_.assign(config.block + 8, 0.0);
  w.scratch_.assign(config.block, 0.0);
  return w;
}

void WaveletDenoiseStream::reset() noexcept {
  std::fill(ring_.begin(), ring_.end(), 0.0);
  std::fill(queue_.begin(), queue_.end(), 0.0);
  phase_ = 0;
  ring_pos_ = 0;
}

void WaveletDenoiseStream::denoise_channel(std::size_t c) noexcept {
  const std::size_t n = config_.block, hop = config_.hop;
  const double* ring = ring_.data() + c * n;
  // Oldest first: ring_pos_ is where the next sample goes, i.e. the oldest one.
  for (std::size_t i = 0; i < n; ++i) work_[i] = ring[(ring_pos_ + i) % n];
  // Pyramid in coeffs_: [approximation | coarsest detail | ... | finest detail (n/2 values at the end)].
  std::size_t len = n;
  double* approx = work_.data();
  for (std::size_t l = 0; l < config_.levels; ++l) {
    const std::size_t half = len / 2;
    lay_out_periodic(approx, len, ext_.data());
    analysis_step(ext_.data(), half, scratch_.data(), coeffs_.data() + half);  // details of this level
    std::copy_n(scratch_.data(), half, approx);                                 // approximation, in place
    len = half;
  }
  std::copy_n(approx, len, coeffs_.data());
  const std::size_t n_details = n - len;
  const double sigma = median_abs(coeffs_.data() + n / 2, n / 2, scratch_.data()) / 0.6745;
  const double t = universal_threshold(config_.threshold_scale, sigma, n);
  if (t > 0.0) soft_threshold(coeffs_.data() + len, n_details, t);
  // Inverse: level by level from the coarsest; the approximation grows in work_.
  std::copy_n(coeffs_.data(), len, work_.data());
  while (len < n) {
    synthesis_step(work_.data(), coeffs_.data() + len, len, ext_.data(), scratch_.data());
    len *= 2;
    std::copy_n(scratch_.data(), len, work_.data());
  }
  const std::size_t first = n - config_.guard - hop;
  std::copy_n(work_.data() + first, hop, queue_.data() + c * hop);
}

Status WaveletDenoiseStream::process(std::span<const double> in, std::span<double> out) noexcept {
  if (in.size() != out.size() || in.size() % channels_ != 0)
    return make_error(ErrorCode::mismatch, "wavelet stream: in and out must hold the same whole frames");
  const std::size_t frames = in.size() / channels_, n = config_.block, hop = config_.hop;
  for (std::size_t j = 0; j < frames; ++j) {
    for (std::size_t c = 0; c < channels_; ++c) {
      const double x = in[j * channels_ + c];
      out[j * channels_ + c] = queue_[c * hop + phase_];
      ring_[c * n + ring_pos_] = x;
    }
    ring_pos_ = (ring_pos_ + 1) % n;
    if (++phase_ == hop) {
      phase_ = 0;
      for (std::size_t c = 0; c < channels_; ++c) denoise_channel(c);
    }
  }
  return {};
}

Status WaveletDenoiseStream::process_channel_major(std::span<const double> in, std::span<double> out,
                                                   std::size_t frames) noexcept {
  if (in.size() != out.size() || in.size() != frames * channels_)
    return make_error(ErrorCode::mismatch, "wavelet stream: in and out must hold channels x frames values");
  // Every channel walks the same frames from the same phase; the ring position and phase are shared.
  const std::size_t n = config_.block, hop = config_.hop, phase0 = phase_, pos0 = ring_pos_;
  for (std::size_t c = 0; c < channels_; ++c) {
    phase_ = phase0;
    ring_pos_ = pos0;
    const double* x = in.data() + c * frames;
    double* y = out.data() + c * frames;
    for (std::size_t j = 0; j < frames; ++j) {
      const double v = x[j];
      y[j] = queue_[c * hop + phase_];
      ring_[c * n + ring_pos_] = v;
      ring_pos_ = (ring_pos_ + 1) % n;
      if (++phase_ == hop) {
        phase_ = 0;
        denoise_channel(c);
      }
    }
  }
  return {};
}

}  // namespace myoexo::dsp
