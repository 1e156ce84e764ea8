// myoexo::models (models/torch) — the per-channel power spectrogram in dB a SpectrogramCNN sees.
//
// Why not torch::stft: the same transform runs offline (training, evaluation) and on the live stream
// without LibTorch; it is the dsp stage's StftPlan (FFTW), checked there against SciPy. Definition:
// `scipy.signal.spectrogram(x, fs, window='hann', nperseg, noverlap, detrend=False, scaling='spectrum',
// mode='psd')` (no boundary padding), then 10 * log10(max(P, power_floor)). Layout [channels x frames x bins]
// (the dsp stage's order: one spectrum per segment), i.e. the transpose of SciPy's [bins x frames] per channel.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/error.hpp"

namespace myoexo::dsp {
class StftPlan;
}

namespace myoexo::models {

class SpectrogramTransform {
 public:
  /// channels >= 1, nperseg in [2, window_length], noverlap < nperseg, power_floor > 0, sample_rate_hz > 0.
  static Result<SpectrogramTransform> create(std::size_t channels, std::size_t window_length, std::size_t nperseg,
                                             std::size_t noverlap, double power_floor,
                                             double sample_rate_hz = 1000.0);

  std::size_t channels() const noexcept { return channels_; }
  std::size_t window_length() const noexcept { return length_; }
  std::size_t freq_bins() const noexcept { return nperseg_ / 2 + 1; }
  std::size_t frames() const noexcept { return frames_; }
  /// Floats per output image: channels * frames * freq_bins.
  std::size_t output_size() const noexcept { return channels_ * frames_ * freq_bins(); }

  /// in: one window [channels x window_length] channel-major; out: [channels x frames x freq_bins] in dB.
  /// Allocation-free.
  void process(const float* in, float* out) noexcept;

  SpectrogramTransform(SpectrogramTransform&&) noexcept;
  SpectrogramTransform& operator=(SpectrogramTransform&&) noexcept;
  /// Copies make their own FFT plan (plans are not shared between threads).
  SpectrogramTransform(const SpectrogramTransform& other);
  SpectrogramTransform& operator=(const SpectrogramTransform& other);
  ~SpectrogramTransform();

 private:
  SpectrogramTransform() = default;
  std::size_t channels_ = 0, length_ = 0, nperseg_ = 0, noverlap_ = 0, frames_ = 0;
  double power_floor_ = 1e-12, sample_rate_hz_ = 1000.0;
  std::unique_ptr<dsp::StftPlan> plan_;
  std::vector<double> in_, out_;
};

}  // namespace myoexo::models
