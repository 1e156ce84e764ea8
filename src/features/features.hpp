// myoexo::features — public header of the feature stage: per-channel, per-window EMG features, a registry
// keyed by canonical acronym, named groups (HTD, TDAR, TDPSD, ...) and sets from a TOML config, a streaming
// extractor that allocates nothing per window, and an offline extractor over a whole Recording.
//
// Every definition below is checked against an independent NumPy/SciPy implementation
// (scripts/fixtures_features.py) on real UCI lower-limb windows and synthetic edge cases.
//
// Conventions for a window x[0..N-1] of one channel (N = window length in samples):
//   d1[i] = x[i+1] - x[i]       (i = 0..N-2, numpy.diff)
//   d2[i] = d1[i+1] - d1[i]     (i = 0..N-3, numpy.diff applied twice)
// Amplitude features are in the signal's unit (mV for UCI lower-limb), counts are plain numbers stored as
// double, frequencies in Hz. Thresholds are in the signal's unit.
//
// Degenerate windows (constant, all zeros) never produce NaN/Inf: where a definition divides 0 by 0 the
// feature is 0 (each function says which). Non-finite INPUT samples are a different matter: the extractor
// counts them and writes quiet NaN for every feature of the affected channel, so a bad sample is never
// turned into a plausible-looking number.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "dsp/fft.hpp"
#include "io/recording.hpp"

namespace myoexo::features {

// ==== Feature math on one channel window ======================================================================
// All take x with x.size() = N >= 3 unless stated; none allocates.

/// MAV = (1/N) sum |x|.
double compute_mav(std::span<const double> x) noexcept;
/// RMS = sqrt((1/N) sum x^2).
double compute_rms(std::span<const double> x) noexcept;
/// VAR = (1/(N-1)) sum x^2 — the EMG-literature variance (Phinyomark et al. 2012), which assumes a zero-mean
/// signal and does NOT subtract the window mean (HA below is the variance about the mean).
double compute_var(std::span<const double> x) noexcept;
/// IAV = sum |x|.
double compute_iav(std::span<const double> x) noexcept;
/// WL = sum |d1| (waveform length).
double compute_wl(std::span<const double> x) noexcept;
/// ZC = #{ i in [0, N-2] : sign(x[i]) = -sign(x[i+1]) != 0  AND  |x[i] - x[i+1]| >= threshold }.
/// A strict sign change: a sample that is exactly 0 is no crossing by itself (as numpy.sign-based code).
double compute_zc(std::span<const double> x, double threshold) noexcept;
/// SSC (Hudgins 1993) = #{ i in [1, N-2] : sign(x[i]-x[i-1]) = sign(x[i]-x[i+1]) != 0  AND
///                                        (|x[i]-x[i-1]| >= threshold OR |x[i]-x[i+1]| >= threshold) }.
/// A strict local extremum whose larger side step reaches the threshold (signal units, not squared).
double compute_ssc(std::span<const double> x, double threshold) noexcept;
/// WAMP = #{ i in [0, N-2] : |d1[i]| >= threshold } (Willison amplitude).
double compute_wamp(std::span<const double> x, double threshold) noexcept;
/// LOG = exp((1/N) sum log|x|) (log detector); 0 when any sample is exactly 0.
double compute_log(std::span<const double> x) noexcept;
/// DASDV = sqrt((1/(N-1)) sum d1^2).
double compute_dasdv(std::span<const double> x) noexcept;
/// SKEW = m3 / m2^1.5 with central moments m_k = (1/N) sum (x - mean)^k: scipy.stats.skew defaults
/// (bias=True). 0 where SciPy returns NaN, i.e. when m2 <= (1e-15 * mean)^2 (numpy finfo(float64).resolution;
/// a constant window).
double compute_skew(std::span<const double> x) noexcept;
/// KURT = m4 / m2^2 - 3: EXCESS (Fisher) kurtosis, scipy.stats.kurtosis defaults (fisher=True, bias=True).
/// 0 for a constant window (same test as SKEW; SciPy gives NaN).
double compute_kurt(std::span<const double> x) noexcept;

/// Hjorth parameters with population variances about the mean (numpy.var, ddof=0):
/// activity HA = var(x); mobility HM = sqrt(var(d1)/var(x)); complexity HC = mobility(d1)/mobility(x)
/// where mobility(d1) = sqrt(var(d2)/var(d1)). A ratio whose denominator variance is 0 is 0.
struct Hjorth {
  double activity = 0.0;    ///< signal unit^2
  double mobility = 0.0;    ///< per sample (dimensionless)
  double complexity = 0.0;  ///< dimensionless
};
Hjorth compute_hjorth(std::span<const double> x) noexcept;

/// AR(p) coefficients by the Yule-Walker method: the window mean is removed, the BIASED autocorrelation
/// r[k] = (1/N) sum_{n=0}^{N-1-k} x[n] x[n+k] (k = 0..p) is formed and the Toeplitz system solved by
/// Levinson-Durbin. Convention: x[n] ~= sum_{k=1}^{p} a[k-1] x[n-k] (prediction coefficients, the sign
/// statsmodels' yule_walker returns; librosa/MATLAB lpc return the negated polynomial). `coeffs.size()` = p,
/// 1 <= p < N; `scratch.size()` >= 2p + 1. A constant window (r[0] <= (1e-15 mean)^2) gives all zeros; if the recursion's prediction
/// error reaches 0 (a perfectly predictable window) the remaining orders are 0.
void compute_ar(std::span<const double> x, std::span<double> coeffs, std::span<double> scratch) noexcept;

/// TD-PSD descriptors (Khushaba et al., "time-domain power spectral descriptors"), exactly as LibEMG's
/// getM0feat..getWLFfeat. For a window w define
///   m0 = sqrt(sum w^2) / (N-1),  m2 = sqrt(sum d1^2 / (N-1)),  m4 = sqrt(sum d2^2 / (N-1)),
///   each then "power-normalised" m -> m^0.1 / 0.1, and
///   f(w) = [ log m0, log|m0-m2|, log|m0-m4|, log( sqrt|(m0-m2)(m0-m4)| / m0 ),
///            log( m2 / sqrt(m0 m4) ), log( sqrt(sum|d1| / sum|d2|) ) ].
/// With a = f(x) and b = f(log(x^2 + 2.22e-16)) (the same descriptors of a log-compressed copy), each of the
/// six outputs is the orientation -2ab / (a^2 + b^2), in [-1, 1]. A non-finite result (a zero or constant
/// window makes some logs -inf or 0/0) is 0. `scratch.size()` >= N (holds the log-compressed copy).
struct Tdpsd {
  double m0 = 0.0, m2 = 0.0, m4 = 0.0, sparsi = 0.0, irf = 0.0, wlf = 0.0;
};
Tdpsd compute_tdpsd(std::span<const double> x, std::span<double> scratch) noexcept;

/// One-sided periodogram, the definition of scipy.signal.periodogram(x, fs) with its defaults:
/// boxcar window, detrend='constant' (window mean removed), nfft = N, scaling='density':
///   P[k] = c_k |X[k]|^2 / (fs N),  k = 0..N/2,  c_k = 2 except c_0 = 1 and (N even) c_{N/2} = 1,
/// in signal unit^2 / Hz at frequencies f_k = k fs / N. `fft.size()` must be N; psd.size() = N/2 + 1.
void compute_periodogram(std::span<const double> x, double sample_rate_hz, dsp::RealFft& fft,
                         std::span<double> psd) noexcept;

/// Spectral features of a one-sided periodogram P (from compute_periodogram, window length N):
///   TP  = sum_k P[k] * fs/N — total power in signal unit^2 (by Parseval this equals the population variance of
///         the window, i.e. HA; it is kept because it is the usual spectral normalizer).
///   MNF = sum_k f_k P[k] / sum_k P[k] (Hz).
///   MDF = f_m with m the smallest k such that sum_{j<=k} P[j] >= 0.5 sum P (Hz; no interpolation).
///   PKF = f_m with m = the first argmax of P (Hz).
/// A window with zero power gives 0 for all four.
struct SpectralFeatures {
  double mnf_hz = 0.0, mdf_hz = 0.0, tp = 0.0, pkf_hz = 0.0;
};
SpectralFeatures compute_spectral_features(std::span<const double> psd, double sample_rate_hz,
                                           std::size_t window_len) noexcept;

// ==== Registry ===============================================================================================

/// Which computation a feature needs (the extractor shares work within a kind).
enum class FeatureKind { time_domain, autoregressive, spectral, tdpsd };

/// One registry entry. AR coefficients appear as AR1..AR<ar_order> (the registry lists AR1..AR4; any
/// AR<k> with k <= the spec's ar_order is accepted).
struct FeatureInfo {
  std::string_view name;         ///< canonical acronym: "MAV", "AR3", ...
  FeatureKind kind;
  std::string_view unit;         ///< "signal", "signal^2", "count", "Hz", "1" (dimensionless)
  std::string_view description;  ///< one line for --help and docs
};

/// Every single feature, in canonical order (MAV RMS VAR IAV WL ZC SSC WAMP LOG DASDV SKEW KURT HA HM HC
/// AR1..AR4 MNF MDF TP PKF M0 M2 M4 SPARSI IRF WLF).
std::span<const FeatureInfo> feature_registry() noexcept;

/// Built-in groups: HTD (MAV WL ZC SSC), TDAR (HTD + AR1..AR<p>), TDPSD (M0 M2 M4 SPARSI IRF WLF),
/// AR (AR1..AR<p>), HJORTH (HA HM HC), SPECTRAL (MNF MDF TP PKF), ALL (every feature).
std::vector<std::string> feature_group_names();

/// Expands a list of acronyms and group names (case-insensitive) to canonical single-feature names, keeping
/// first occurrences in order (duplicates dropped). An unknown name is an invalid_argument error naming it;
/// an empty list is an error too.
Result<std::vector<std::string>> expand_feature_names(std::span<const std::string> names, int ar_order = 4);

// ==== Spec =====================================================================================================

/// Thresholds of the counting features, in the signal's unit (mV for UCI lower-limb), each >= 0.
struct FeatureThresholds {
  double zc = 0.0;      ///< ZC: minimum |x[i]-x[i+1]| across a crossing
  double ssc = 0.0;     ///< SSC: minimum step on either side of an extremum
  double wamp = 0.002;  ///< WAMP: minimum |d1| (LibEMG's default, 2 uV on mV data)
};

/// What to compute: immutable, shared read-only between offline and live extraction.
struct FeatureSpec {
  std::vector<std::string> names{"HTD"};  ///< acronyms and/or group names (expanded at create)
  FeatureThresholds thresholds;
  int ar_order = 4;                       ///< 1..32; order of AR<k> / the AR and TDAR groups
  double sample_rate_hz = 0.0;            ///< > 0 needed by MNF/MDF/PKF; 0 = take the recording's rate
};

/// Named feature sets read from a TOML file (e.g. configs/features.toml):
///   [thresholds]            # optional defaults for every set (signal units)
///   zc = 0.0
///   ssc = 0.0
///   wamp = 0.002
///   ar_order = 4            # optional, also per set
///   [sets.mine]
///   features = ["RMS", "WL"]
///   wamp = 0.005            # optional per-set override of zc/ssc/wamp/ar_order/sample_rate_hz
/// Set names are case-sensitive; every feature name is validated on load.
struct FeatureConfig {
  std::map<std::string, FeatureSpec> sets;
};
Result<FeatureConfig> load_feature_config(const std::filesystem::path& path);
Result<FeatureConfig> parse_feature_config(std::string_view toml_text, const std::string& display_name);

/// The spec for a CLI/config selection: a set from `config` (if given and it has that name), else a built-in
/// group or acronym, else a comma-separated list ("RMS,WL,HTD"). Unknown -> invalid_argument.
Result<FeatureSpec> make_feature_spec(std::string_view selection, const FeatureConfig* config = nullptr);

// ==== Extraction ===============================================================================================

/// What a compute() call found.
enum class ComputeStatus {
  ok,              ///< every input sample finite, row written
  nonfinite_input, ///< some channel had NaN/Inf samples: its features are NaN, the others are valid
};

/// Computes one feature row per window: row[c * n_features() + f] = feature f of channel c
/// (columns named `<channel>_<feature>`). create() validates the spec and allocates the FFT plan and all
/// scratch; compute() then allocates nothing, locks nothing and throws nothing. One extractor per thread;
/// copying gives an independent extractor (with its own FFT plan).
class FeatureExtractor {
 public:
  /// n_channels >= 1, window_len >= 3 (and > ar_order when AR features are asked for); spectral features
  /// need spec.sample_rate_hz > 0. Errors: invalid_argument (naming the bad field or feature).
  static Result<FeatureExtractor> create(const FeatureSpec& spec, std::size_t n_channels, std::size_t window_len);

  FeatureExtractor(const FeatureExtractor& other);
  FeatureExtractor& operator=(const FeatureExtractor& other);
  FeatureExtractor(FeatureExtractor&&) noexcept;
  FeatureExtractor& operator=(FeatureExtractor&&) noexcept;
  ~FeatureExtractor();

  std::size_t n_channels() const noexcept;
  std::size_t window_len() const noexcept;
  std::size_t n_features() const noexcept;  ///< per channel
  std::size_t n_columns() const noexcept;   ///< n_channels * n_features
  /// Canonical single-feature names, in column order within a channel.
  const std::vector<std::string>& feature_names() const noexcept;
  /// `<channel>_<feature>` for every column; channel names default to ch0, ch1, ... when `channel_names`
  /// is empty (otherwise its size must be n_channels, else ch<k> is used for the missing ones).
  std::vector<std::string> column_names(std::span<const std::string> channel_names = {}) const;
  const FeatureSpec& spec() const noexcept;

  /// One window: channel c's samples are window[c * channel_stride + i], i = 0..window_len-1 (so a
  /// channel-major Recording window starting at sample s is `rec.samples.data() + s` with stride
  /// rec.n_samples). `row` must hold n_columns() values. Returns nonfinite_input (and counts it) when a
  /// channel holds NaN/Inf; that channel's features are NaN.
  [[nodiscard]] ComputeStatus compute(const double* window, std::size_t channel_stride, double* row) noexcept;

  /// Span-checked form: false (row untouched) when window.size() < (n_channels-1)*stride + window_len or
  /// row.size() < n_columns(); otherwise as above, `status` set.
  [[nodiscard]] bool compute(std::span<const double> window, std::size_t channel_stride, std::span<double> row,
                             ComputeStatus& status) noexcept;

  /// Windows seen with non-finite input since create()/reset(), and the non-finite samples in them.
  std::size_t nonfinite_windows() const noexcept;
  std::size_t nonfinite_samples() const noexcept;
  /// Zeroes the counters (the extractor has no other state: windows are independent).
  void reset() noexcept;

 private:
  struct Impl;
  explicit FeatureExtractor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Features of every complete window of a recording, for offline use (training, the CLI, other tools).
struct FeatureMatrix {
  std::vector<std::string> column_names;   ///< `<channel>_<feature>`, n_cols entries
  std::vector<std::size_t> window_starts;  ///< first sample of each row's window (0-based)
  std::vector<double> values;              ///< row-major [n_rows x n_cols]
  double sample_rate_hz = 0.0;
  std::size_t window_len = 0;              ///< samples
  std::size_t increment = 0;               ///< samples between window starts
  std::size_t nonfinite_windows = 0;       ///< rows with NaN features because of non-finite input
  std::size_t nonfinite_samples = 0;       ///< non-finite samples summed over those windows

  std::size_t n_rows() const noexcept { return window_starts.size(); }
  std::size_t n_cols() const noexcept { return column_names.size(); }
  std::span<const double> row(std::size_t r) const noexcept { return {values.data() + r * n_cols(), n_cols()}; }
};

/// Windows [k*increment, k*increment + window_len) over `rec` (dsp::window_starts), features of the channels
/// named in `channels` (empty = all, in recording order). spec.sample_rate_hz = 0 takes rec.sample_rate_hz;
/// a different non-zero rate is a mismatch error. Errors: invalid_argument (bad spec/window/increment,
/// unknown channel), empty (recording shorter than one window).
Result<FeatureMatrix> extract_features(const io::Recording& rec, const FeatureSpec& spec, std::size_t window_len,
                                       std::size_t increment, std::span<const std::string> channels = {});


// ==== Feature blocks: log amplitudes and a causal context block (the "lda_context" variant) ==================
// One definition shared by offline evaluation (eval::make_lda_fit_predict with an LdaVariant), model training
// (app::train_pipeline_model) and the live pipeline (realtime::StreamingPipeline), so the three compute the
// same row bit for bit.

/// log() of an amplitude feature is taken of max(value, this): an all-zero (flat) channel stays finite.
inline constexpr double kLogAmplitudeFloor = 1e-12;

/// Amplitude features, in the signal's unit or its square: MAV RMS VAR IAV WL DASDV HA TP M0 M2 M4. EMG
/// amplitudes are roughly log-normal, and LDA assumes Gaussian classes, hence the optional log. Names as
/// FeatureExtractor::feature_names() (canonical acronyms, case-sensitive).
bool is_amplitude_feature(std::string_view name) noexcept;
/// Sums and counts that grow with the number of samples covered: IAV WL ZC SSC WAMP. In a block whose length
/// varies (a context clipped at its segment origin) they are divided by the sample count so that clipped and
/// full blocks compare.
bool grows_with_length(std::string_view name) noexcept;

/// How one block of a row is post-processed (in this order, value by value).
struct FeatureBlockOptions {
  bool per_sample = false;     ///< divide grows_with_length() features by the block's sample count
  bool log_amplitude = false;  ///< v -> log(max(v, kLogAmplitudeFloor)) for is_amplitude_feature() features
};

/// Post-processes one feature block in place: row[c * feature_names.size() + f], c < n_channels (the layout
/// FeatureExtractor::compute writes). n_samples (>= 1) is the block's length in samples (used when
/// per_sample). No allocation; NaN stays NaN.
void finish_feature_block(double* row, std::size_t n_channels, std::span<const std::string> feature_names,
                          std::size_t n_samples, const FeatureBlockOptions& options) noexcept;

/// The most distinct context lengths (ceil(context_samples / increment) + 1) a ContextFeatureExtractor holds
/// one FeatureExtractor for; more is refused by create() (memory and FFT plans grow with it).
inline constexpr std::size_t kMaxContextLengths = 4096;

/// Feature rows of the form [window block | context block] (each channel-major, n_channels * n_features):
///   window block  = features of the window (window_len samples), log_amplitude applied;
///   context block = the same features over the window AND up to context_samples samples before it, never
///                   before the segment origin (offline: the recording or split start; live: the stream
///                   start), grows_with_length() features divided by the samples covered, log_amplitude
///                   applied. Absent when context_samples = 0 (the row is the window block alone).
/// Windows start at origin + k * increment, so a context holds window_len + min(context_samples,
/// k * increment) samples: create() builds one FeatureExtractor per such length (and the full one) and
/// compute() allocates nothing, locks nothing, throws nothing. One per thread; copyable (deep copy).
class ContextFeatureExtractor {
 public:
  /// Same constraints as FeatureExtractor::create, plus increment >= 1 and ceil(context_samples /
  /// increment) + 1 <= kMaxContextLengths. Errors: invalid_argument.
  static Result<ContextFeatureExtractor> create(const FeatureSpec& spec, std::size_t n_channels,
                                                std::size_t window_len, std::size_t increment,
                                                std::size_t context_samples, bool log_amplitude);

  std::size_t n_channels() const noexcept { return n_channels_; }
  std::size_t window_len() const noexcept { return window_len_; }
  std::size_t increment() const noexcept { return increment_; }
  std::size_t context_samples() const noexcept { return context_; }
  bool log_amplitude() const noexcept { return log_amplitude_; }
  std::size_t n_features() const noexcept;   ///< per channel and block
  std::size_t n_blocks() const noexcept { return context_ > 0 ? 2 : 1; }
  std::size_t n_columns() const noexcept;    ///< n_channels * n_features * n_blocks
  const std::vector<std::string>& feature_names() const noexcept;
  /// `<channel>_<feature>` for the window block, then `<channel>_<feature>@<window_len + context_samples>`
  /// for the context block (the names offline evaluation gives its LDA inputs).
  std::vector<std::string> column_names(std::span<const std::string> channel_names = {}) const;
  /// Samples the context block of a window with `samples_before` samples between its origin and its start
  /// covers: window_len + min(context_samples, samples_before) (window_len when there is no context).
  std::size_t context_length(std::size_t samples_before) const noexcept;

  /// One row. Channel c's window is window[c * channel_stride + i], i = 0..window_len-1; the context block
  /// reads back to window[c * channel_stride - min(context_samples, samples_before)], which must be valid.
  /// `row` holds n_columns() values. Returns false (row untouched) when samples_before < context_samples is
  /// not a multiple of increment (no extractor of that length exists); otherwise true with `status` set
  /// (nonfinite_input when either block saw a NaN/Inf sample: those channels' features are NaN).
  [[nodiscard]] bool compute(const double* window, std::size_t channel_stride, std::size_t samples_before,
                             double* row, ComputeStatus& status) noexcept;

  /// Zeroes the extractors' non-finite counters (there is no other state).
  void reset() noexcept;

 private:
  ContextFeatureExtractor() = default;
  std::size_t n_channels_ = 0, window_len_ = 0, increment_ = 1, context_ = 0;
  bool log_amplitude_ = false;
  /// [k] covers window_len + min(context_samples, k * increment) samples, k = 0..ceil(context/increment);
  /// [0] also computes the window block.
  std::vector<FeatureExtractor> extractors_;
};

}  // namespace myoexo::features
