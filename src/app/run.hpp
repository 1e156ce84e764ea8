// myoexo::app — the `myoexo run` chain (replay -> StreamingPipeline -> intents -> control loop -> MuJoCo) and
// the pipeline-model file it loads or trains. Internal to the app (the CLI and the report step call it).
//
// Time base: the control loop runs in SIMULATED time at control_hz; the EMG replay advances in the same time
// base (a chunk becomes available when its last sample would have been acquired, or later after an injected
// stall), and a decision is handed to the controller at the first control tick at or after its window end.
// Nothing sleeps unless the replay is paced in real time. Compute time and latency are measured on the wall
// clock (steady_clock); the decision -> command delay is also reported in simulated time.
//
// Data-set label -> intent (UCI lower-limb, documented in docs and summary.json):
//   gait     (<k>mar, walking)                  -> gait
//   standing (<k>pie, knee flexion while standing) -> lift  (flexion towards the lift target)
//   sitting  (<k>sen, leg extension from sitting)  -> lower (extension back to the straight, neutral leg)
//   rejected decisions (max probability < threshold) -> rest
// Class names that already are intent names (rest, lift, lower, gait, hold) map to themselves.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "app/app.hpp"
#include "core/error.hpp"
#include "features/features.hpp"
#include "io/recording.hpp"
#include "models/classifier.hpp"
#include "models/lda.hpp"

namespace myoexo::app {

/// Everything the live pipeline needs besides post-processing: channels, causal band-pass, window geometry,
/// features and the fitted LDA. File: JSON {"format":"myoexo-pipeline-model","version":1,"sample_rate_hz",
/// "channels":[..],"filter":{"order","low_hz","high_hz"},"window_len","increment",
/// "features":{"names","zc","ssc","wamp","ar_order"},"context_samples","log_amplitude","trained_on":[..],
/// "lda":{LdaClassifier JSON}}. "context_samples" (0..2^24, default 0) and "log_amplitude" (default false) may be
/// absent (files written before the lda_context variant load as the plain window-feature LDA).
///
/// The same struct also carries a LibTorch network loaded from its model file (load_run_model): then
/// `network` is set and used instead of `lda`, and channels, rate, filter and window geometry come from the
/// network's own spec (models::NetworkSpec::input); `features` is unused (networks take raw windows).
struct PipelineModel {
  double sample_rate_hz = 1000.0;                             ///< > 0
  std::vector<std::string> channels{"RF", "BF", "VM", "ST"};  ///< streamed channels, in feature order
  int filter_order = 4;                                       ///< Butterworth order per edge; 0 = no filter
  std::string filter_kind = "bandpass";  ///< "bandpass" (band_low_hz..band_high_hz), "highpass" (band_low_hz),
                                         ///< "lowpass" (band_high_hz); pipeline-model JSON files are bandpass
  double band_low_hz = 20.0;
  double band_high_hz = 450.0;
  std::size_t window_len = 250;         ///< samples
  std::size_t increment = 50;           ///< samples
  features::FeatureSpec features;       ///< default HTD
  /// The "lda_context" variant (eval's LdaVariant, `myoexo evaluate --model lda_context`): > 0 adds a second
  /// feature block over the window and up to this many past samples (clipped at the recording / stream start;
  /// see features::ContextFeatureExtractor); the LDA then takes 2 x channels x features inputs.
  std::size_t context_samples = 0;
  bool log_amplitude = false;           ///< log(max(v, 1e-12)) of the amplitude features in every block
  std::vector<std::string> trained_on;  ///< recording file names (provenance)
  models::LdaClassifier lda;
  /// A LibTorch network (models::TorchClassifier behind the torch-free interface); null = the LDA above.
  std::shared_ptr<models::Classifier> network;
  std::string network_arch;                ///< "cnn1d", ... (network set)
  std::filesystem::path network_file;      ///< where it was loaded from (network set)
  bool network_trained_zero_phase = false; ///< the network saw zero-phase windows; the stream is causal
};

/// The classifier's class names (network's when set, else the LDA's).
const std::vector<std::string>& model_class_names(const PipelineModel& m) noexcept;

/// What a --model file is, from its first bytes: a LibTorch model file is a zip archive ("PK\x03\x04"), a
/// pipeline-model / LDA file is JSON (first non-blank byte '{'). Errors: io (unreadable), parse (neither).
enum class ModelFileKind { pipeline_json, torch };
Result<ModelFileKind> detect_model_file_kind(const std::filesystem::path& path);

/// Loads a LibTorch model file (models::TorchClassifier, "myoexo-torch-model") as a PipelineModel whose
/// channels, rate, filter and window come from the network's spec. Errors: unsupported (built without
/// LibTorch), io, parse, invalid_argument (window geometry or rate out of range, a filter kind the stream
/// cannot run).
Result<PipelineModel> load_torch_model(const std::filesystem::path& path);

/// Either kind of --model file (detect_model_file_kind, then load_pipeline_model or load_torch_model).
Result<PipelineModel> load_run_model(const std::filesystem::path& path);

nlohmann::json pipeline_model_to_json(const PipelineModel& m);
Status save_pipeline_model(const PipelineModel& m, const std::filesystem::path& path);
/// Loads a pipeline-model file, or a bare LdaClassifier JSON (then channels and features come from its
/// feature names "<channel>_<feature>", the rest from the defaults above). Errors: io, parse, invalid_argument.
Result<PipelineModel> load_pipeline_model(const std::filesystem::path& path);

/// The untrained model `myoexo evaluate --model lda_context` measures (train it with train_pipeline_model):
/// log-amplitude MAV WL ZC SSC RMS AR1-4 (thresholds 0) over the 250/50 window plus the same features over the
/// window and `context_samples` past samples. context_samples = 0 gives the default model (the plain HTD LDA).
/// sample_rate_hz is left at its default: set it to the data's.
PipelineModel lda_context_model(std::size_t context_samples);

/// Fits the LDA of `base` (its channels/filter/window/features, context_samples and log_amplitude) on every
/// recording of `train` (per-file label = class; classes sorted by name). Rows are computed as the live pipeline
/// computes them: causal filter from zero state at the recording start, windows at k * increment, a context
/// clipped at the recording start (the origin offline evaluation uses for leave-one-subject-out). Errors:
/// invalid_argument (missing channel, < 2 classes, rate mismatch, context too long for the increment).
Result<PipelineModel> train_pipeline_model(std::span<const io::Recording> train, PipelineModel base);

/// Recordings from folders (every recording below) and files. Content duplicates found inside a folder keep
/// the first copy only (UCI's 2Npie/2Nsen equal 1Npie/1Nsen). Errors: io/parse of an unreadable file.
Result<std::vector<io::Recording>> load_training_recordings(const std::vector<std::filesystem::path>& paths);

/// The class -> intent aliases above.
std::vector<std::pair<std::string, std::string>> intent_aliases();

/// Runs the whole chain for `opt` on `model`; writes the outputs into opt.out_dir and returns summary.json's
/// content.
Result<nlohmann::json> run_chain(const Context& ctx, const RunCommandOptions& opt, const PipelineModel& model);

}  // namespace myoexo::app
