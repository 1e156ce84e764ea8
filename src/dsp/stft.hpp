// myoexo::dsp — short-time Fourier transform and spectrogram, offline (a reusable plan over whole
// signals or batches of windows) and streaming (frames as soon as their samples have arrived).
//
// Numbers equal scipy.signal.stft / scipy.signal.spectrogram (SciPy 1.10) to ~1e-12 relative:
//   - StftConfig::scipy_stft(): boundary='zeros', padded=True, detrend=False, scaling='spectrum',
//     complex output (what scipy.signal.stft returns);
//   - StftConfig::scipy_spectrogram(): boundary=None, padded=False, detrend='constant',
//     scaling='density', mode='psd' (power output, one-sided doubling) — with window Hann/Hamming,
//     which callers must name (SciPy's own default spectrogram window is Tukey(0.25)).
// Output layout differs from SciPy on purpose: [channels x frames x bins] (one contiguous spectrum per
// frame, the order frames are produced in); SciPy returns [channels x bins x frames].
#pragma once

#include <complex>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "dsp/fft.hpp"
#include "dsp/windowing.hpp"

namespace myoexo::dsp {

/// Analysis window (periodic, as scipy.signal.get_window(name, n), i.e. fftbins=True).
enum class WindowType { hann, hamming };
/// 'spectrum': |X|^2 in signal units^2 (scale 1 / sum(w)^2); 'density': per Hz (1 / (fs sum(w^2))).
enum class SpectrumScaling { density, spectrum };
/// complex: SciPy stft values (scaled by sqrt(scale)); power: SciPy spectrogram mode='psd' (|X|^2 scale,
/// non-DC/non-Nyquist bins doubled); db: 10 log10(max(power, db_floor)).
enum class StftOutput { complex, power, db };

/// The periodic window of n >= 1 samples (SciPy's general_cosine formula: a0 + a1 cos(-pi + 2 pi k / n)).
std::vector<double> make_window(WindowType type, std::size_t n);

struct StftConfig {
  WindowType window = WindowType::hann;
  std::size_t nperseg = 256;        ///< samples per segment (FFT length), >= 2
  std::size_t noverlap = 128;       ///< overlap in samples, < nperseg (hop = nperseg - noverlap)
  double sample_rate_hz = 1.0;      ///< > 0; only scales density and the time/frequency axes
  SpectrumScaling scaling = SpectrumScaling::spectrum;
  bool boundary_zeros = true;       ///< pad nperseg/2 zeros at both ends (scipy boundary='zeros' vs None)
  bool padded = true;               ///< zero-pad the end to a whole number of hops (scipy padded)
  bool detrend_constant = false;    ///< subtract each segment's mean before windowing (scipy detrend)
  StftOutput output = StftOutput::complex;
  double db_floor = 1e-20;          ///< power floor before 10 log10 (db output), > 0
  /// FFTW planning (fft.hpp). measure is faster; plans of one length agree within a process (FFTW wisdom),
  /// so streaming and offline stay bit-identical; across processes values may differ in the last bits.
  RealFft::Planning fft_planning = RealFft::Planning::measure;

  /// scipy.signal.stft defaults (nperseg 256, noverlap 128, Hann, complex).
  static StftConfig scipy_stft(double sample_rate_hz, WindowType window = WindowType::hann);
  /// scipy.signal.spectrogram(detrend='constant', scaling='density', mode='psd') with a Hann window and
  /// 50 % overlap (the project's defaults; SciPy's own spectrogram overlap default is nperseg/8).
  static StftConfig scipy_spectrogram(double sample_rate_hz, WindowType window = WindowType::hann);

  std::size_t hop() const noexcept { return nperseg - noverlap; }
  std::size_t bins() const noexcept { return nperseg / 2 + 1; }
  /// invalid_argument unless nperseg >= 2, noverlap < nperseg, sample_rate_hz > 0, db_floor > 0.
  Status validate() const;
};

namespace detail {
/// The per-segment transform shared by StftPlan and Stft (so offline and streaming are bit-identical).
class StftEngine {
 public:
  explicit StftEngine(const StftConfig& cfg);
  /// Transforms one segment `seg` (nperseg contiguous samples): detrend, window, FFT, scale.
  void transform_complex(const double* seg, std::complex<double>* out) noexcept;  ///< bins values
  void transform_power(const double* seg, double* out) noexcept;  ///< bins values (power or dB per config)
  const StftConfig& config() const noexcept { return cfg_; }

 private:
  void prepare(const double* seg) noexcept;  // detrend + window into the FFT input, then execute
  StftConfig cfg_;
  std::vector<double> window_;
  double scale_ = 1.0;       // psd scale
  double amp_scale_ = 1.0;   // sqrt(scale) for complex output
  RealFft fft_;
};
}  // namespace detail

/// Offline STFT over signals of a fixed length: plan once, execute on many signals/windows.
class StftPlan {
 public:
  /// Errors: invalid config; channels == 0; n_samples < nperseg (invalid_argument).
  static Result<StftPlan> create(const StftConfig& config, std::size_t channels, std::size_t n_samples);

  const StftConfig& config() const noexcept { return engine_->config(); }
  std::size_t channels() const noexcept { return channels_; }
  std::size_t n_samples() const noexcept { return n_samples_; }
  std::size_t frames() const noexcept { return frames_; }
  std::size_t bins() const noexcept { return config().bins(); }
  /// Values per signal: channels x frames x bins.
  std::size_t output_size() const noexcept { return channels_ * frames_ * bins(); }
  /// Bin frequencies k fs / nperseg (numpy.fft.rfftfreq), bins() values.
  std::vector<double> frequencies_hz() const;
  /// Frame times as SciPy reports them (segment centre, minus nperseg/2 when boundary padding), frames().
  std::vector<double> times_s() const;

  /// in: [channels x n_samples] channel-major; out: [channels x frames x bins]. complex output only
  /// (else mismatch). No allocation.
  Status execute(std::span<const double> in, std::span<std::complex<double>> out) noexcept;
  /// Same for power/db output (else mismatch).
  Status execute(std::span<const double> in, std::span<double> out) noexcept;
  /// A batch of signals: in [batch x channels x n_samples], out [batch x channels x frames x bins].
  Status execute_batch(std::span<const double> in, std::span<std::complex<double>> out) noexcept;
  Status execute_batch(std::span<const double> in, std::span<double> out) noexcept;

 private:
  StftPlan() = default;
  Status check(std::size_t in_size, std::size_t out_size, bool complex_out, std::size_t batch) const noexcept;
  // Segment `frame` of signal x: a pointer into x for interior segments, else zero-padded into scratch_.
  const double* segment(const double* x, std::size_t frame) noexcept;
  std::unique_ptr<detail::StftEngine> engine_;
  std::size_t channels_ = 0, n_samples_ = 0, frames_ = 0, pad_front_ = 0;
  std::vector<double> scratch_;
};

/// One STFT frame handed out by Stft::push/finish; valid only inside the callback.
struct StftFrame {
  std::size_t index = 0;     ///< frame k since create/reset
  double time_s = 0.0;       ///< as StftPlan::times_s()[k]
  std::span<const std::complex<double>> complex;  ///< [channels x bins] (complex output), else empty
  std::span<const double> values;                 ///< [channels x bins] (power/db output), else empty
};

/// Streaming STFT: push interleaved frames in any chunks, get each STFT frame once its samples are in;
/// finish() adds the end padding (boundary/padded) and emits the rest. The frames equal StftPlan's on the
/// whole signal bit for bit. No allocation after create().
class Stft {
 public:
  /// Errors: invalid config; channels == 0.
  static Result<Stft> create(const StftConfig& config, std::size_t channels);

  const StftConfig& config() const noexcept { return engine_->config(); }
  std::size_t channels() const noexcept { return channels_; }
  std::size_t bins() const noexcept { return config().bins(); }

  /// Interleaved frames [frames x channels]; calls on_frame(const StftFrame&) per completed frame.
  template <typename OnFrame>
  Status push(std::span<const double> frames, OnFrame&& on_frame) {
    return windower_.push(frames, [&](const WindowView& w) { on_frame(compute(w)); });
  }
  /// Ends the stream: pads as SciPy does (nperseg/2 zeros if boundary_zeros, then up to a whole hop if
  /// padded), emits the remaining frames, then resets for a new stream.
  template <typename OnFrame>
  Status finish(OnFrame&& on_frame) {
    const std::size_t pad = tail_padding();
    for (std::size_t i = 0; i < pad; ++i) {
      Status s = windower_.push(zero_frame_, [&](const WindowView& w) { on_frame(compute(w)); });
      if (!s) return s;
    }
    reset();
    return {};
  }
  /// Starts a new stream (front boundary padding re-applied).
  void reset() noexcept;

 private:
  Stft() = default;
  StftFrame compute(const WindowView& w) noexcept;
  std::size_t tail_padding() const noexcept;
  std::unique_ptr<detail::StftEngine> engine_;
  StreamingWindower windower_ = make_placeholder();
  std::size_t channels_ = 0;
  std::vector<double> zero_frame_;
  std::vector<std::complex<double>> out_complex_;
  std::vector<double> out_values_;
  static StreamingWindower make_placeholder();
};

}  // namespace myoexo::dsp
