#include "models/torch/spectrogram.hpp"

#include "dsp/stft.hpp"

namespace myoexo::models {

namespace {

dsp::StftConfig stft_config(std::size_t nperseg, std::size_t noverlap, double power_floor, double fs) {
  dsp::StftConfig c;
  c.window = dsp::WindowType::hann;
  c.nperseg = nperseg;
  c.noverlap = noverlap;
  c.sample_rate_hz = fs;
  c.scaling = dsp::SpectrumScaling::spectrum;
  c.boundary_zeros = false;
  c.padded = false;
  c.detrend_constant = false;
  c.output = dsp::StftOutput::db;
  c.db_floor = power_floor;
  c.fft_planning = dsp::RealFft::Planning::estimate;  // same plan in every process: reproducible inputs
  return c;
}

}  // namespace

Result<SpectrogramTransform> SpectrogramTransform::create(std::size_t channels, std::size_t window_length,
                                                          std::size_t nperseg, std::size_t noverlap,
                                                          double power_floor, double sample_rate_hz) {
  if (channels == 0) return make_error(ErrorCode::invalid_argument, "spectrogram: channels must be >= 1");
  if (nperseg < 2 || nperseg > window_length)
    return make_error(ErrorCode::invalid_argument, "spectrogram: nperseg must be in [2, window_length]");
  if (noverlap >= nperseg) return make_error(ErrorCode::invalid_argument, "spectrogram: noverlap must be < nperseg");
  if (!(power_floor > 0)) return make_error(ErrorCode::invalid_argument, "spectrogram: power_floor must be > 0");
  auto plan = dsp::StftPlan::create(stft_config(nperseg, noverlap, power_floor, sample_rate_hz), channels, window_length);
  if (!plan) return plan.error();
  SpectrogramTransform t;
  t.channels_ = channels;
  t.length_ = window_length;
  t.nperseg_ = nperseg;
  t.noverlap_ = noverlap;
  t.power_floor_ = power_floor;
  t.sample_rate_hz_ = sample_rate_hz;
  t.plan_ = std::make_unique<dsp::StftPlan>(std::move(plan).value());
  t.frames_ = t.plan_->frames();
  t.in_.assign(channels * window_length, 0.0);
  t.out_.assign(t.plan_->output_size(), 0.0);
  return t;
}

SpectrogramTransform::SpectrogramTransform(SpectrogramTransform&&) noexcept = default;
SpectrogramTransform& SpectrogramTransform::operator=(SpectrogramTransform&&) noexcept = default;
SpectrogramTransform::~SpectrogramTransform() = default;

SpectrogramTransform::SpectrogramTransform(const SpectrogramTransform& o)
    : SpectrogramTransform(create(o.channels_, o.length_, o.nperseg_, o.noverlap_, o.power_floor_, o.sample_rate_hz_)
                               .value()) {}

SpectrogramTransform& SpectrogramTransform::operator=(const SpectrogramTransform& o) {
  if (this != &o) *this = SpectrogramTransform(o);
  return *this;
}

void SpectrogramTransform::process(const float* in, float* out) noexcept {
  for (std::size_t i = 0; i < in_.size(); ++i) in_[i] = static_cast<double>(in[i]);
  // Shapes were fixed in create(): execute cannot fail here.
  (void)plan_->execute(std::span<const double>(in_), std::span<double>(out_));
  for (std::size_t i = 0; i < out_.size(); ++i) out[i] = static_cast<float>(out_[i]);
}

}  // namespace myoexo::models
