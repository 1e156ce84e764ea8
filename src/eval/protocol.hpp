// myoexo::eval — windowed evaluation protocols over recordings: W (within-subject, chronological split),
// P (pooled, same split), L (leave-one-subject-out), K (blocked k-fold, for any data set), and the preset
// UCI-LL v1.
//
// Protocol UCI-LL v1, implemented exactly (uci_ll_v1_spec()):
//  - uci-lower-limb, EMG channels RF, BF, VM, ST; files 2Npie and 2Nsen dropped (copies of 1Npie/1Nsen);
//  - causal 4th-order Butterworth band-pass 20-450 Hz (SciPy butter(4, [20, 450], 'bandpass', fs=1000)),
//    state zero at the start of every recording, applied to the whole recording before any split;
//  - windows of 250 samples every 50; label = the file's movement;
//  - W/P: each recording is split at floor(0.7 n); the train part [0, s) and the test part [s, n) are
//    windowed separately, each from its own first sample (so no window straddles s); W fits one model per
//    subject (mean and min accuracy over subjects), P one model on all subjects' train parts;
//  - L: windows over whole recordings; one fold per subject, trained on every other subject.
// Leakage guard: after the exclusions, content-identical recordings of different subjects are an error.
//
// The model is a callback (FitPredictFn): it receives the windows to train on and to predict, so LDA on
// features (make_lda_fit_predict) and the LibTorch networks plug into the same protocol and window code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "dsp/wavelet.hpp"
#include "eval/metrics.hpp"
#include "features/features.hpp"
#include "io/recording.hpp"
#include "models/lda.hpp"

namespace myoexo::eval {

/// Window geometry in samples.
struct WindowSpec {
  std::size_t length = 250;    ///< samples per window (>= 1)
  std::size_t increment = 50;  ///< samples between window starts (>= 1)
};

/// How recordings become labelled windows (everything a protocol fixes about the data).
struct DataSpec {
  std::string name = "custom";
  std::vector<std::string> channels;       ///< channel names to keep, in this order; empty = all
  std::vector<std::string> exclude_files;  ///< file stems dropped (e.g. "2Npie")
  std::vector<std::string> exclude_labels; ///< class names dropped (e.g. "unmarked" for gestures)
  /// Data-set class name -> the model's class name (e.g. "standing" -> "leg lift"), applied after exclusions;
  /// names not listed stay. Two data-set classes may not share a model name.
  std::vector<std::pair<std::string, std::string>> class_map;
  int filter_order = 4;                    ///< Butterworth band-pass order per edge; 0 = no filtering
  double band_low_hz = 20.0;
  double band_high_hz = 450.0;
  /// Wavelet denoising after the band-pass, causal as in the stream (its delay shifts the signal against the
  /// labels as the stream's decisions are late); none = off.
  std::optional<dsp::WaveletStreamConfig> denoise;
  WindowSpec window;
  double split_fraction = 0.7;             ///< W/P chronological split point fraction
};

/// The UCI-LL v1 preset: RF BF VM ST, drop 2Npie 2Nsen, band-pass 4 / 20-450 Hz, windows 250/50, split 0.7.
DataSpec uci_ll_v1_spec();

/// One recording after channel selection and causal filtering.
struct PreparedRecording {
  std::string name;              ///< file stem ("1Amar") or "<subject>#<k>" when there is no path
  int subject = -1;              ///< index into PreparedData::subjects
  int label = -1;                ///< class index of a per-file label; -1 when labels are per sample
  std::vector<int> sample_labels;///< per-sample class index (-1 = excluded/unlabelled); empty for per-file
  std::size_t n_samples = 0;
  std::vector<double> samples;   ///< [channels x n_samples] channel-major, filtered
};

struct PreparedData {
  std::vector<std::string> channel_names;
  std::vector<std::string> class_names;   ///< sorted (the class index order of every model and metric)
  std::vector<std::string> subjects;      ///< sorted
  double sample_rate_hz = 0.0;
  std::vector<PreparedRecording> recordings;
  std::vector<std::string> excluded;      ///< recordings dropped by DataSpec::exclude_files
};

/// Selects channels, drops excluded files, filters every recording from zero state, maps labels to classes.
/// Errors: empty (nothing left), mismatch (missing channel, differing sample rates, duplicate recordings
/// across subjects), invalid_argument (bad filter settings).
Result<PreparedData> prepare_data(std::span<const io::Recording> recordings, const DataSpec& spec);

/// One window: samples [start, start + length) of a prepared recording.
struct WindowRef {
  std::uint32_t recording = 0;
  std::uint32_t start = 0;
  std::int32_t label = -1;
  std::int32_t subject = -1;
  /// First sample of the segment the window was cut from (0, or the W/P split point for a test window): a
  /// model that looks at past context (NetworkFitOptions::context_samples) may not reach before it, so no
  /// training sample ever feeds a test input.
  std::uint32_t origin = 0;
};

/// All windows a protocol run uses (each layout's windows appear once; folds index into `windows`).
struct WindowSet {
  const PreparedData* data = nullptr;
  std::size_t length = 0;
  /// Unique per run_protocol call (process-wide counter): callbacks key per-run caches on it, never on the
  /// address, which a later run may reuse.
  std::uint64_t id = 0;
  std::vector<WindowRef> windows;

  std::size_t n_channels() const noexcept { return data ? data->channel_names.size() : 0; }
  /// Channel 0 of window i; channel c starts channel_stride(i) * c further (the recording's n_samples).
  const double* window_data(std::size_t i) const noexcept {
    const WindowRef& w = windows[i];
    return data->recordings[w.recording].samples.data() + w.start;
  }
  std::size_t channel_stride(std::size_t i) const noexcept { return data->recordings[windows[i].recording].n_samples; }
  /// Copies window i to out, channel-major [n_channels x length].
  void copy_window(std::size_t i, double* out) const noexcept;
  /// Window i with `context` past samples before it, channel-major [n_channels x (context + length)]; zeros where
  /// the past would reach before the window's origin (the live stream's zeros before its start). T: float or double.
  template <typename T>
  void copy_window_with_context(std::size_t i, std::size_t context, T* out) const noexcept {
    const WindowRef& w = windows[i];
    const std::size_t n = data->recordings[w.recording].n_samples;
    const double* samples = data->recordings[w.recording].samples.data();
    const std::size_t total = context + length;
    const std::size_t first = std::size_t(w.start) >= context ? w.start - context : 0;  // unclamped sample index
    const std::size_t begin = first > w.origin ? first : std::size_t(w.origin);
    const std::size_t pad = (begin - first) + (std::size_t(w.start) < context ? context - w.start : 0);
    for (std::size_t c = 0; c < n_channels(); ++c) {
      T* dst = out + c * total;
      for (std::size_t k = 0; k < pad; ++k) dst[k] = T(0);
      const double* src = samples + c * n + begin;
      for (std::size_t k = pad; k < total; ++k) dst[k] = static_cast<T>(src[k - pad]);
    }
  }
};

/// A fresh WindowSet::id (process-wide, never 0).
std::uint64_t next_window_set_id() noexcept;

/// Appends the windows of [begin, end) of recording r of set.data (starts begin, begin + increment, ...;
/// origin = begin) and returns their indices in set.windows. Windows whose samples do not all carry one
/// kept class are skipped. The protocols and the calibration protocol cut every window with it.
std::vector<std::size_t> append_windows(WindowSet& set, std::size_t r, std::size_t begin, std::size_t end,
                                        std::size_t increment);

enum class Protocol { within_subject, pooled, leave_one_subject_out, blocked_kfold };
const char* protocol_code(Protocol p) noexcept;  ///< "W", "P", "L", "K"

/// What fold a callback is serving (for progress display and per-fold seeds).
struct FoldContext {
  Protocol protocol = Protocol::pooled;
  std::string name;          ///< held-out subject (W, L), "pooled" (P), "fold <i>" (K)
  std::size_t index = 0;     ///< 0-based fold index
  std::size_t n_folds = 1;
  /// Optional [test.size() x n_classes] buffer: callbacks that can (LDA, networks) also write their class
  /// probabilities here, so an ensemble (make_ensemble_fit_predict) can average them. Empty = not wanted.
  std::span<double> probabilities;
};

/// Fit a model on windows `train` and write the predicted class of each window of `test` to `predicted`
/// (predicted.size() == test.size(); classes index PreparedData::class_names). Indices point into
/// windows.windows. Train windows never overlap the test windows' samples of the same recording.
using FitPredictFn = std::function<Status(const WindowSet& windows, std::span<const std::size_t> train,
                                          std::span<const std::size_t> test, std::span<int> predicted,
                                          const FoldContext& fold)>;

struct FoldScore {
  std::string name;
  std::size_t index = 0;   ///< the fold's place in its protocol (FoldContext::index)
  std::size_t n_train = 0;
  std::size_t n_test = 0;
  double seconds = 0.0;    ///< wall time of the fold (fit and predict)
  Metrics metrics;
};

struct RunOptions {
  std::vector<Protocol> protocols{Protocol::within_subject, Protocol::pooled, Protocol::leave_one_subject_out};
  /// Held-out subjects for W and L (empty = all). L still trains on every other subject.
  std::vector<std::string> subjects;
  std::size_t k_folds = 5;  ///< K: contiguous blocks per recording
  std::string model_name = "model";
  std::function<void(const std::string&)> progress;  ///< optional, one line per finished fold
  /// Folds trained at the same time (threads), >= 1. With > 1 the callback is called concurrently and must be
  /// thread-safe (make_network_fit_predict and make_lda_fit_predict are). Results do not depend on it.
  std::size_t parallel_folds = 1;
  /// Optional: called after each fold (one call at a time, in any fold order) with its test windows and the class
  /// probabilities the model gave them ([test.size() x classes]; callbacks that write none leave NaN), e.g. to run
  /// the live post-processing over them.
  std::function<void(const FoldContext& fold, const WindowSet& windows, std::span<const std::size_t> test,
                     std::span<const double> probabilities)>
      on_fold_probabilities;
  /// Optional: asked just before a fold starts whether this process runs it (a shard's share of the task list, a
  /// resumed run's unfinished folds). Declined folds are left out of the result; a protocol none of whose folds ran
  /// has no folds and a zero summary. May be called from several threads at once when parallel_folds > 1.
  std::function<bool(const FoldContext& fold)> claim_fold;
  /// Optional: called after each fold that ran (one call at a time, after on_fold_probabilities), e.g. to keep
  /// its result on disk so a crashed run resumes where it stopped.
  std::function<void(const FoldContext& fold, const FoldScore& score)> on_fold_done;
};

struct ProtocolScores {
  Protocol protocol = Protocol::pooled;
  std::vector<FoldScore> folds;
  Metrics summed;                      ///< from the confusion matrix summed over folds
  double mean_accuracy = 0.0;          ///< over folds (subjects for W and L)
  double min_accuracy = 0.0;
  std::string min_fold;                ///< the fold with min_accuracy
  double mean_balanced_accuracy = 0.0;
  double mean_macro_f1 = 0.0;
};

struct EvaluationResult {
  std::string spec_name;
  std::string model_name;
  std::vector<std::string> class_names;
  std::vector<std::string> channel_names;
  std::vector<std::string> subjects;
  std::vector<std::string> excluded;
  WindowSpec window;
  double split_fraction = 0.7;
  std::vector<ProtocolScores> protocols;

  const ProtocolScores* find(Protocol p) const noexcept {
    for (const auto& s : protocols)
      if (s.protocol == p) return &s;
    return nullptr;
  }
};

/// A protocol's scores from its folds (any order; they are put in index order): summed confusion, mean and min
/// over folds — what run_protocol reports, so folds computed by different processes combine to the same numbers.
/// Errors: empty (no folds), invalid_argument (a fold's confusion of another size than n_classes^2).
Result<ProtocolScores> summarise_folds(Protocol protocol, std::vector<FoldScore> folds, std::size_t n_classes);

/// Runs the requested protocols on prepared data with `fit_predict` as the model. Errors: those of the
/// callback (first one stops the run), invalid_argument (bad window/split/k, unknown subject), empty (a
/// fold without train or test windows).
Result<EvaluationResult> run_protocol(const PreparedData& data, const DataSpec& spec, const FitPredictFn& fit_predict,
                                      const RunOptions& options = {});

/// The LDA model of the protocol: features (spec, e.g. HTD with thresholds 0) of every window, computed
/// once per WindowSet (keyed on WindowSet::id) and cached, then LdaClassifier::fit on the train rows and
/// predict on the test rows. The cache is guarded by a mutex, so parallel folds may share the callback.
/// Declared variants of the LDA model (the protocol allows better normalisation and up to 1000 past
/// samples of causal context; the test windows and split rules are unchanged).
struct LdaVariant {
  /// log(x) of the amplitude features (MAV, RMS, WL, IEMG, SSI, VAR, DASDV, LOG?): EMG amplitudes are roughly
  /// log-normal, and LDA assumes Gaussian classes with a shared covariance.
  bool log_amplitude = false;
  /// > 0: a second block of the same features over the window plus this many past samples (clipped at the
  /// window's segment origin, so never into the train part of a W/P split), count and sum features divided by
  /// the samples they cover so clipped and full contexts compare.
  std::size_t context_samples = 0;
};

/// Feature rows of every window of a set, row i for set.windows[i] (the LDA family's rows; the knee-angle
/// regressors use the same). Errors: invalid_argument (bad spec, non-finite samples).
struct WindowFeatureRows {
  std::size_t n_cols = 0;
  std::vector<double> rows;        ///< [windows x n_cols] row-major
  std::vector<std::string> names;  ///< n_cols column names (`<channel>_<feature>`, `@<samples>` for the context block)
};
Result<WindowFeatureRows> compute_window_features(const WindowSet& set, const features::FeatureSpec& feature_spec,
                                                  const LdaVariant& variant = {});

FitPredictFn make_lda_fit_predict(const features::FeatureSpec& feature_spec = {},
                                  const models::LdaOptions& lda_options = {}, const LdaVariant& variant = {});

/// An ensemble: every member fits and predicts the fold; the predicted class is the argmax of the members'
/// mean probabilities. Members must fill FoldContext::probabilities (LDA and network callbacks do). Thread-safe
/// when every member is.
FitPredictFn make_ensemble_fit_predict(std::vector<FitPredictFn> members);

/// metrics.json shape: {"spec", "model", "class_names", "channel_names", "subjects", "excluded",
///  "window": {"length", "increment"}, "split_fraction",
///  "protocols": {"W": {"per_fold": [{"name", "n_train", "n_test", "accuracy", "balanced_accuracy",
///  "macro_f1"}], "summary": {"mean_accuracy", "min_accuracy", "min_fold", "mean_balanced_accuracy",
///  "mean_macro_f1"}, "summed": <metrics>}, ...}} with <metrics> = {"n_samples", "accuracy",
///  "balanced_accuracy", "macro_f1", "per_class": [{"class", "precision", "recall", "f1", "support"}],
///  "confusion": [[...]], "confusion_normalised": [[...]]}.
nlohmann::json metrics_to_json(const Metrics& m, std::span<const std::string> class_names);
nlohmann::json evaluation_to_json(const EvaluationResult& r);

/// A few lines for a terminal: per protocol mean (min) accuracy, balanced accuracy and macro-F1.
std::string format_summary(const EvaluationResult& r);

}  // namespace myoexo::eval
