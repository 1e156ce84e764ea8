// myoexo::session — the model a live session runs: one immutable description of the front end (rate, channels in
// order, signal unit, causal filter, window/increment, causal context, features, classes and the class -> intent
// map) plus the fitted classifier, shared by every stream that runs it (its per-stream state lives in the
// session's StreamingPipeline, as whisper.cpp keeps its context apart from its state).
//
// File: JSON {"format":"myoexo-pipeline-model","version":2,"sample_rate_hz","channels":[..],"signal_unit":"mV",
// "filter":{"order","low_hz","high_hz"},"window_len","increment","features":{"names","zc","ssc","wamp",
// "ar_order"},"context_samples","log_amplitude","class_intents":{"<class>":"<intent>",..},"trained_on":[..],
// "provenance":{"program","version","commit","created_utc"},"lda":{LdaClassifier JSON}}.
// Version-1 files (no signal_unit, class_intents, provenance) still load: their LDA was fitted on readers that
// return millivolts (the UCI text reader, EDF in mV), so they are taken as "mV", with the data set's class map.
// A version-2 file without signal_unit is refused (a unit is never guessed).
// Integer fields are checked as integers in range (a 1e300 order or a 2^32 + 1 increment is refused, not cast).
//
// A LibTorch network travels in the same struct (`network`, loaded by the app through models/torch): then the
// network's own spec gave channels, rate, filter and window, and `features` is unused.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "control/intent.hpp"
#include "core/error.hpp"
#include "dsp/butterworth.hpp"
#include "dsp/wavelet.hpp"
#include "features/features.hpp"
#include "io/recording.hpp"
#include "models/classifier.hpp"
#include "models/knee_angle.hpp"
#include "models/lda.hpp"
#include "models/ridge.hpp"
#include "models/model_card.hpp"
#include "realtime/pipeline.hpp"

namespace myoexo::session {

/// Where a model came from (shared with the network files' model card).
using Provenance = models::Provenance;

/// The program's version and source commit, as compiled in.
Provenance current_provenance();

struct PipelineModel {
  double sample_rate_hz = 1000.0;                             ///< > 0
  std::vector<std::string> channels{"RF", "BF", "VM", "ST"};  ///< streamed channels, in feature order
  /// The unit the classifier was trained in ("mV" for the UCI readers). A source in another unit is converted
  /// (voltages, or ADC codes through a board profile) or refused.
  std::string signal_unit = "mV";
  int filter_order = 4;                                       ///< Butterworth order per edge; 0 = no filter
  std::string filter_kind = "bandpass";  ///< "bandpass" (band_low_hz..band_high_hz), "highpass" (band_low_hz),
                                         ///< "lowpass" (band_high_hz); pipeline-model JSON files are bandpass
  double band_low_hz = 20.0;
  double band_high_hz = 450.0;
  /// Wavelet denoising after the filter (dsp::WaveletDenoiseStream), in training and in the stream alike; none =
  /// off. Its delay (hop + guard samples) adds to every decision's latency.
  std::optional<dsp::WaveletStreamConfig> denoise;
  std::size_t window_len = 250;         ///< samples
  std::size_t increment = 50;           ///< samples
  features::FeatureSpec features;       ///< default HTD
  /// > 0 adds a second feature block over the window and up to this many past samples (clipped at the stream
  /// start; features::ContextFeatureExtractor); the LDA then takes 2 x channels x features inputs.
  std::size_t context_samples = 0;
  bool log_amplitude = false;           ///< log(max(v, 1e-12)) of the amplitude features in every block
  /// Class name -> intent name ("rest", "lift", "lower", "gait", "hold"), one per class; empty = the data set's
  /// default map (default_class_intents()).
  std::vector<std::pair<std::string, std::string>> class_intents;
  std::vector<std::string> trained_on;  ///< recording file names
  std::string adapted_from;             ///< models::ModelCard::adapted_from
  Provenance provenance;
  models::LdaClassifier lda;
  /// A LibTorch network behind the torch-free interface; null = the LDA above.
  std::shared_ptr<models::Classifier> network;
  std::string network_arch;                ///< "cnn1d", ... (network set)
  std::filesystem::path network_file;      ///< where it was loaded from (network set)
  bool network_trained_zero_phase = false; ///< the network saw zero-phase windows; the stream is causal
  /// Knee angle (proportional mode; LDA models only): the regressor (ridge on the same feature row, or a network
  /// on the filtered window and its past), the target it was trained on (channel, convention, smoothing: scoring a
  /// recording uses the same, so a recording read the other way round is refused when the convention was stated),
  /// the lead it predicts ahead, its training files.
  std::shared_ptr<const models::AngleRegressor> knee_angle;
  /// A network regressor's file. The JSON names it relative to itself ("knee_angle":{"network_file": ...});
  /// load_pipeline_model sets this path and leaves knee_angle empty: the app's loader (models/torch) reads it.
  std::filesystem::path knee_angle_network_file;
  models::KneeAngleTargetSpec knee_angle_target;
  std::size_t knee_angle_lead_samples = 0;
  std::vector<std::string> knee_angle_trained_on;
};

/// Bounds on what a model file may ask for before anything is sized from it: rate in (0, 1e6) Hz, window in
/// [3, 2^24] samples, increment in [1, window], causal context within features::kMaxContextLengths increments.
/// Errors: invalid_argument naming `where` (the file).
Status validate_model_geometry(const PipelineModel& m, const std::string& where);

/// The classifier's class names (network's when set, else the LDA's).
const std::vector<std::string>& model_class_names(const PipelineModel& m) noexcept;

/// The UCI lower-limb map: gait -> gait, standing (knee flexion while standing) -> lift, sitting (leg extension
/// from sitting) -> lower. Class names that are intent names map to themselves.
std::vector<std::pair<std::string, std::string>> default_class_intents();

/// The intent of each class, in class order, from the model's map (or the default one). Errors: invalid_argument
/// naming a class that maps to no intent, or an intent name that does not exist.
Result<std::vector<control::IntentLabel>> model_class_intents(const PipelineModel& m);

/// The StreamingPipeline spec that runs `m` at `fs_hz` with `post` (filter, windows, features and context for an
/// LDA, raw windows for a network, class -> intent map): the one translation of a model into a stream, used by the
/// live session and by offline prediction alike.
Result<realtime::PipelineSpec> pipeline_spec_for(const PipelineModel& m, double fs_hz,
                                                 const realtime::PostProcessOptions& post = {});

/// The model's causal filter at `fs_hz` (nullopt when it has none).
Result<std::optional<dsp::SosDesign>> design_model_filter(const PipelineModel& m, double fs_hz);
/// "band-passed 20-450 Hz", "high-passed 20 Hz", "unfiltered"; "..., wavelet-denoised (delay 32 ms)" with the
/// wavelet stage.
std::string describe_model_filter(const PipelineModel& m);

nlohmann::json pipeline_model_to_json(const PipelineModel& m);
Status save_pipeline_model(const PipelineModel& m, const std::filesystem::path& path);
/// Loads a pipeline-model file (version 1 or 2), or a bare LdaClassifier JSON (then channels and features come
/// from its feature names "<channel>_<feature>", the rest from the defaults above). Errors: io, parse,
/// invalid_argument (out-of-range or non-integer fields), mismatch.
Result<PipelineModel> load_pipeline_model(const std::filesystem::path& path);

/// The untrained lda_context model (`myoexo evaluate --model lda_context`): log-amplitude MAV WL ZC SSC RMS AR1-4
/// (thresholds 0) over the 250/50 window plus the same features over the window and `context_samples` past
/// samples. 0 gives the default model (the plain HTD LDA). sample_rate_hz is left at its default.
PipelineModel lda_context_model(std::size_t context_samples);

/// The model's channels of `rec`, causally filtered (and wavelet-denoised when the model has that stage) from zero
/// state, as a new recording (label kept).
/// Errors: invalid_argument naming a missing channel.
Result<io::Recording> prepare_channels(const io::Recording& rec, const PipelineModel& m);

/// The unit shared by `channels` of every labelled recording of `train` ("" when none is labelled). Errors:
/// mismatch naming the file whose channel has no unit or a unit the others do not share.
Result<std::string> training_signal_unit(std::span<const io::Recording> train, const std::vector<std::string>& channels);

/// Fits the LDA of `base` on every labelled recording of `train` (per-file label = class; classes sorted by
/// name), with rows computed as the live pipeline computes them. The recordings' EMG unit must be the model's
/// signal_unit. Errors: invalid_argument (missing channel, < 2 classes, rate mismatch), mismatch (unit).
/// `lda` sets the solver and shrinkage (default: scikit-learn's, svd without shrinkage).
Result<PipelineModel> train_pipeline_model(std::span<const io::Recording> train, PipelineModel base,
                                           const models::LdaOptions& lda = {});

/// The LDA of `base` adapted to the labelled windows of `train` (rows as train_pipeline_model computes them;
/// models::LdaClassifier::adapt: class means and pooled covariance move towards the person's, the base weighing
/// as much as `prior_windows` of the person's windows). Filter, features and class list stay the base's; the
/// person may record only some of the classes. Errors: those of adapt, mismatch (a class or unit the base does
/// not have), invalid_argument (a network model).
Result<PipelineModel> adapt_pipeline_model(std::span<const io::Recording> train, PipelineModel base,
                                           double prior_windows);

/// How the knee-angle regressor is trained: target (channel, convention, smoothing), lead, ridge penalty.
struct KneeAngleTraining {
  models::KneeAngleTargetSpec target;
  std::size_t lead_samples = 0;
  models::RidgeOptions ridge{.alpha = 100.0, .clip_to_training_range = true};
};

/// Adds a knee-angle regressor to an LDA pipeline model: ridge on the rows the stream computes (the model's
/// front end and features), target = the goniometer at each window's last sample + lead (models::knee_angle_target)
/// of every recording of `train` (labelled or not). Errors: invalid_argument (a network model, rate), mismatch
/// (a recording without the angle channel or in another convention), empty.
Result<PipelineModel> train_knee_angle_regressor(std::span<const io::Recording> train, PipelineModel m,
                                                 const KneeAngleTraining& options = {});

/// Recordings from folders (every recording below) and files; content duplicates inside a folder keep the
/// first copy only. Errors: io/parse of an unreadable file.
Result<std::vector<io::Recording>> load_training_recordings(const std::vector<std::filesystem::path>& paths);

}  // namespace myoexo::session
