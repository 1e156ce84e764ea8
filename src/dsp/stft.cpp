// STFT/spectrogram following scipy.signal._spectral_py._spectral_helper (SciPy 1.10): boundary
// extension, end padding, per-segment detrend, window, rfft, scaling, one-sided doubling for psd.
#include "dsp/stft.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace myoexo::dsp {

namespace {
Error bad(std::string reason) { return make_error(ErrorCode::invalid_argument, std::move(reason)); }
Error mismatch(std::string reason) { return make_error(ErrorCode::mismatch, std::move(reason)); }

// Python's a % b for b > 0 (non-negative result).
long long py_mod(long long a, long long b) { return ((a % b) + b) % b; }
}  // namespace

std::vector<double> make_window(WindowType type, std::size_t n) {
  // get_window(name, n, fftbins=True) = general_cosine(n + 1, a, sym=True)[:n]
  // with fac = linspace(-pi, pi, n + 1): fac[k] = k * (2 pi / n) + (-pi).
  const double a0 = type == WindowType::hann ? 0.5 : 0.54;
  const double a1 = 1.0 - a0;
  std::vector<double> w(n);
  if (n == 1) {
    w[0] = 1.0;
    return w;
  }
  const double step = (2.0 * std::numbers::pi) / static_cast<double>(n);
  for (std::size_t k = 0; k < n; ++k) {
    const double fac = static_cast<double>(k) * step + (-std::numbers::pi);
    w[k] = a0 * 1.0 + a1 * std::cos(fac);
  }
  return w;
}

StftConfig StftConfig::scipy_stft(double sample_rate_hz, WindowType window) {
  StftConfig c;
  c.sample_rate_hz = sample_rate_hz;
  c.window = window;
  return c;
}

StftConfig StftConfig::scipy_spectrogram(double sample_rate_hz, WindowType window) {
  StftConfig c;
  c.sample_rate_hz = sample_rate_hz;
  c.window = window;
  c.boundary_zeros = false;
  c.padded = false;
  c.detrend_constant = true;
  c.scaling = SpectrumScaling::density;
  c.output = StftOutput::power;
  return c;
}

Status StftConfig::validate() const {
  if (nperseg < 2) return bad("STFT: nperseg must be >= 2, got " + std::to_string(nperseg));
  if (noverlap >= nperseg)
    return bad("STFT: noverlap must be < nperseg, got " + std::to_string(noverlap) + " >= " + std::to_string(nperseg));
  if (!(sample_rate_hz > 0.0) || !std::isfinite(sample_rate_hz)) return bad("STFT: sample_rate_hz must be > 0");
  if (!(db_floor > 0.0)) return bad("STFT: db_floor must be > 0");
  return {};
}

namespace detail {

StftEngine::StftEngine(const StftConfig& cfg)
    : cfg_(cfg), window_(make_window(cfg.window, cfg.nperseg)), fft_(cfg.nperseg, cfg.fft_planning) {
  double sum = 0.0, sum2 = 0.0;
  for (double v : window_) {
    sum += v;
    sum2 += v * v;
  }
  scale_ = cfg.scaling == SpectrumScaling::density ? 1.0 / (cfg.sample_rate_hz * sum2) : 1.0 / (sum * sum);
  amp_scale_ = std::sqrt(scale_);
}

void StftEngine::prepare(const double* seg) noexcept {
  double* in = fft_.input().data();
  const std::size_t n = cfg_.nperseg;
  const double* w = window_.data();
  if (cfg_.detrend_constant) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += seg[i];
    const double mean = s / static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) in[i] = w[i] * (seg[i] - mean);
  } else {
    for (std::size_t i = 0; i < n; ++i) in[i] = w[i] * seg[i];
  }
  fft_.execute();
}

void StftEngine::transform_complex(const double* seg, std::complex<double>* out) noexcept {
  prepare(seg);
  auto X = fft_.output();
  for (std::size_t k = 0; k < X.size(); ++k) out[k] = {X[k].real() * amp_scale_, X[k].imag() * amp_scale_};
}

void StftEngine::transform_power(const double* seg, double* out) noexcept {
  prepare(seg);
  auto X = fft_.output();
  const std::size_t nb = X.size();
  for (std::size_t k = 0; k < nb; ++k) out[k] = (X[k].real() * X[k].real() + X[k].imag() * X[k].imag()) * scale_;
  // One-sided: double every bin but DC (and Nyquist when nperseg is even).
  const std::size_t last = cfg_.nperseg % 2 ? nb : nb - 1;
  for (std::size_t k = 1; k < last; ++k) out[k] *= 2.0;
  if (cfg_.output == StftOutput::db)
    for (std::size_t k = 0; k < nb; ++k) out[k] = 10.0 * std::log10(std::max(out[k], cfg_.db_floor));
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------- StftPlan

Result<StftPlan> StftPlan::create(const StftConfig& config, std::size_t channels, std::size_t n_samples) {
  if (auto s = config.validate(); !s) return s.error();
  if (channels == 0) return bad("StftPlan: channels must be >= 1");
  if (n_samples < config.nperseg)
    return bad("StftPlan: signal of " + std::to_string(n_samples) + " samples is shorter than nperseg " +
               std::to_string(config.nperseg));
  StftPlan p;
  p.engine_ = std::make_unique<detail::StftEngine>(config);
  p.channels_ = channels;
  p.n_samples_ = n_samples;
  p.pad_front_ = config.boundary_zeros ? config.nperseg / 2 : 0;
  p.scratch_.assign(config.nperseg, 0.0);
  long long len = static_cast<long long>(n_samples + 2 * p.pad_front_);
  const long long nps = static_cast<long long>(config.nperseg), step = static_cast<long long>(config.hop());
  if (config.padded) len += py_mod(py_mod(-(len - nps), step), nps);
  p.frames_ = static_cast<std::size_t>((len - nps) / step + 1);
  return p;
}

std::vector<double> StftPlan::frequencies_hz() const {
  std::vector<double> f(bins());
  const double d = 1.0 / (static_cast<double>(config().nperseg) * (1.0 / config().sample_rate_hz));
  for (std::size_t k = 0; k < f.size(); ++k) f[k] = static_cast<double>(k) * d;
  return f;
}

std::vector<double> StftPlan::times_s() const {
  std::vector<double> t(frames_);
  const auto& c = config();
  const double half = static_cast<double>(c.nperseg) / 2.0;
  for (std::size_t k = 0; k < frames_; ++k) {
    t[k] = (half + static_cast<double>(k * c.hop())) / c.sample_rate_hz;
    if (c.boundary_zeros) t[k] -= half / c.sample_rate_hz;
  }
  return t;
}

Status StftPlan::check(std::size_t in_size, std::size_t out_size, bool complex_out, std::size_t batch) const noexcept {
  const bool want_complex = config().output == StftOutput::complex;
  if (complex_out != want_complex)
    return mismatch(std::string("StftPlan::execute: the config's output is ") + (want_complex ? "complex" : "power/db") +
                    ", call the matching overload");
  if (in_size != batch * channels_ * n_samples_ || out_size != batch * output_size())
    return mismatch("StftPlan::execute: expected " + std::to_string(batch * channels_ * n_samples_) + " inputs and " +
                    std::to_string(batch * output_size()) + " outputs, got " + std::to_string(in_size) + " and " +
                    std::to_string(out_size));
  return {};
}

const double* StftPlan::segment(const double* x, std::size_t frame) noexcept {
  // Segment k covers extended indices [k hop, k hop + nperseg); extended index e is sample e - pad_front_.
  const std::size_t n = config().nperseg;
  const long long first = static_cast<long long>(frame * config().hop()) - static_cast<long long>(pad_front_);
  const long long ns = static_cast<long long>(n_samples_);
  if (first >= 0 && first + static_cast<long long>(n) <= ns) return x + first;  // interior: no copy
  for (std::size_t i = 0; i < n; ++i) {
    const long long j = first + static_cast<long long>(i);
    scratch_[i] = (j >= 0 && j < ns) ? x[j] : 0.0;
  }
  return scratch_.data();
}

Status StftPlan::execute(std::span<const double> in, std::span<std::complex<double>> out) noexcept {
  if (auto s = check(in.size(), out.size(), true, 1); !s) return s;
  const std::size_t nb = bins();
  for (std::size_t c = 0; c < channels_; ++c)
    for (std::size_t k = 0; k < frames_; ++k) {
      engine_->transform_complex(segment(in.data() + c * n_samples_, k), out.data() + (c * frames_ + k) * nb);
    }
  return {};
}

Status StftPlan::execute(std::span<const double> in, std::span<double> out) noexcept {
  if (auto s = check(in.size(), out.size(), false, 1); !s) return s;
  const std::size_t nb = bins();
  for (std::size_t c = 0; c < channels_; ++c)
    for (std::size_t k = 0; k < frames_; ++k) {
      engine_->transform_power(segment(in.data() + c * n_samples_, k), out.data() + (c * frames_ + k) * nb);
    }
  return {};
}

Status StftPlan::execute_batch(std::span<const double> in, std::span<std::complex<double>> out) noexcept {
  const std::size_t per_in = channels_ * n_samples_;
  if (per_in == 0 || in.size() % per_in != 0) return mismatch("StftPlan::execute_batch: input is not a whole batch");
  const std::size_t batch = in.size() / per_in;
  if (auto s = check(in.size(), out.size(), true, batch); !s) return s;
  for (std::size_t b = 0; b < batch; ++b) {
    Status s = execute(in.subspan(b * per_in, per_in), out.subspan(b * output_size(), output_size()));
    if (!s) return s;
  }
  return {};
}

Status StftPlan::execute_batch(std::span<const double> in, std::span<double> out) noexcept {
  const std::size_t per_in = channels_ * n_samples_;
  if (per_in == 0 || in.size() % per_in != 0) return mismatch("StftPlan::execute_batch: input is not a whole batch");
  const std::size_t batch = in.size() / per_in;
  if (auto s = check(in.size(), out.size(), false, batch); !s) return s;
  for (std::size_t b = 0; b < batch; ++b) {
    Status s = execute(in.subspan(b * per_in, per_in), out.subspan(b * output_size(), output_size()));
    if (!s) return s;
  }
  return {};
}

// -------------------------------------------------------------------------------------------------- Stft

StreamingWindower Stft::make_placeholder() { return StreamingWindower::create(1, 1, 1).value(); }

Result<Stft> Stft::create(const StftConfig& config, std::size_t channels) {
  if (auto s = config.validate(); !s) return s.error();
  if (channels == 0) return bad("Stft: channels must be >= 1");
  auto w = StreamingWindower::create(channels, config.nperseg, config.hop());
  if (!w) return w.error();
  Stft s;
  s.engine_ = std::make_unique<detail::StftEngine>(config);
  s.windower_ = std::move(w.value());
  s.channels_ = channels;
  s.zero_frame_.assign(channels, 0.0);
  if (config.output == StftOutput::complex)
    s.out_complex_.assign(channels * config.bins(), {});
  else
    s.out_values_.assign(channels * config.bins(), 0.0);
  s.reset();
  return s;
}

void Stft::reset() noexcept {
  windower_.reset();
  const std::size_t pad = config().boundary_zeros ? config().nperseg / 2 : 0;
  // nperseg/2 < nperseg: these frames never complete a window, so no callback is needed.
  for (std::size_t i = 0; i < pad; ++i) (void)windower_.push(zero_frame_, [](const WindowView&) {});
}

std::size_t Stft::tail_padding() const noexcept {
  const auto& c = config();
  const std::size_t front = c.boundary_zeros ? c.nperseg / 2 : 0;
  long long len = static_cast<long long>(windower_.samples_seen() + front);  // after the end boundary
  long long pad = static_cast<long long>(front);
  const long long nps = static_cast<long long>(c.nperseg), step = static_cast<long long>(c.hop());
  if (c.padded) pad += py_mod(py_mod(-(len - nps), step), nps);
  return static_cast<std::size_t>(pad);
}

StftFrame Stft::compute(const WindowView& w) noexcept {
  const std::size_t nb = bins();
  for (std::size_t c = 0; c < channels_; ++c) {
    const double* src = w.channel(c).data();
    if (config().output == StftOutput::complex)
      engine_->transform_complex(src, out_complex_.data() + c * nb);
    else
      engine_->transform_power(src, out_values_.data() + c * nb);
  }
  StftFrame f;
  f.index = w.index();
  const double half = static_cast<double>(config().nperseg) / 2.0;
  f.time_s = (half + static_cast<double>(w.start_sample())) / config().sample_rate_hz;
  if (config().boundary_zeros) f.time_s -= half / config().sample_rate_hz;
  f.complex = out_complex_;
  f.values = out_values_;
  return f;
}

}  // namespace myoexo::dsp
