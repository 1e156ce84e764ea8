// `myoexo evaluate`: runs the UCI-LL v1 protocols (W, P, L) with a model and writes a
// report folder a person reads: metrics.json, summary.md, confusion matrices, per-class
// bars and one example spectrogram per class.
//
// Split in two so `myoexo report` can run the same evaluation on the data set it has already loaded
// (evaluate_recordings) while the command itself loads the folder first (run_evaluate).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "app/common.hpp"
#include "app/evaluate_tasks.hpp"
#include "core/error.hpp"
#include "eval/eval.hpp"
#include "io/recording.hpp"

namespace myoexo::app {

struct EvaluateOptions {
  std::string protocol = "all";                ///< "W", "P", "L" or "all" (case-insensitive)
  /// "lda" (LDA on HTD features), a network config name ("cnn1d", "lstm", "cnn_lstm", "spectrogram_cnn" =
  /// configs/<name>.toml of the source tree) or the path of a network config (.toml: [model] and [train]).
  std::string model = "lda";
  std::optional<std::filesystem::path> data;   ///< data-set folder; unset = <data root>/uci-lower-limb
  std::filesystem::path out_dir = "evaluation";///< created if missing
  /// Held-out subjects for W and L (empty = all); L still trains on every other subject.
  std::vector<std::string> subjects;
  std::string spectrogram_channel = "RF";      ///< channel of the per-class example spectrograms
  bool plots = true;                           ///< false: metrics.json and summary.md only
  /// lda / lda_context: feature set (features::make_feature_spec); empty = HTD for lda (the peers'),
  /// MAV,WL,ZC,SSC,RMS,AR for lda_context (the declared variant, chosen among 7 sets tried on these data).
  std::string features;
  /// lda / lda_context: ZC and SSC thresholds in the data's unit (mV for UCI lower-limb); < 0 = the model's
  /// default: 0.005 mV for lda (5 uV, above the recorder's quantisation noise: what the scikit-learn baseline
  /// used, whose W/P/L numbers our LDA on HTD then reproduces), 0 for lda_context (the variant as declared:
  /// every sign change counts).
  double zc_ssc_threshold = -1.0;
  // Networks only (ignored for lda):
  std::optional<std::size_t> epochs;           ///< overrides [train] epochs for W and P
  std::optional<std::size_t> epochs_loso;      ///< overrides epochs for L (default: as W and P)
  std::vector<std::uint64_t> seeds;            ///< one full run per seed (the seed spread); empty = config's
  std::size_t jobs = 0;                        ///< folds trained at once (1 torch thread each); 0 = cores, max 4
  std::size_t context = 0;                     ///< declared variant: past samples the network sees per window
  /// Networks: save the L-fold model of these held-out subjects ("all" = every one; first seed) as
  /// out_dir/models/L_<subject>.pt, e.g. to replay that subject's recordings with a model that never saw them,
  /// or as the starting points of `myoexo calibrate --loso-models`.
  std::vector<std::string> save_loso_models;
  /// A trained model file (`myoexo train`'s pipeline-model JSON or network): score it on the recordings of
  /// `subjects` (default: all) it was not trained on, instead of running the protocols (which train their own).
  std::optional<std::filesystem::path> model_file;
  /// The protocols' band-pass and wavelet stage: UCI-LL v1's 20-450 Hz without wavelets, else a network config's
  /// [input.filter] band and [input.denoise], else these command-line choices (which win).
  FrontEndOverride front_end;
  /// What is estimated: "class" (the movement, the protocols above) or "knee_angle" (continuous knee angle from
  /// the goniometer channel: ridge on the lda_context features under W and L, per movement and pooled).
  std::string target = "class";
  double lead_ms = 0.0;                        ///< knee_angle: estimate the angle this far after the window's end
  std::string angle_convention = "detect";     ///< knee_angle: detect | flexion_positive | flexion_negative
  /// knee_angle: ridge penalty on the standardised features; unset = chosen per fold by inner validation
  std::optional<double> ridge_alpha;
  double smoothing_ms = 0.0;                   ///< knee_angle: causal smoothing of the estimate stream (time constant)
  /// Run only this shard of the task list (one task per seed, protocol and fold; task n belongs to shard n % N):
  /// each finished task leaves its record in out_dir/tasks and no report is written; `myoexo merge` combines the
  /// shards' records into the report a whole run writes.
  ShardSpec shard;
  /// Keep the records in out_dir/tasks of an earlier, interrupted run with the same settings and data, and run only
  /// the tasks that have none.
  bool resume = false;
  /// `myoexo merge`: take every task's result from the records in these folders (each DIR/tasks, or DIR holding
  /// task_*.json) and train nothing; a task without a record is an error and nothing is written.
  std::vector<std::filesystem::path> merge_from;
};

/// "W" | "P" | "L" | "all" or a comma list ("W,L") -> protocols in W, P, L order. invalid_argument otherwise.
Result<std::vector<eval::Protocol>> parse_protocols(const std::string& name);

/// Whether `model` names a protocol model (lda, lda_context, a network config name or .toml, A+B ensembles) this
/// build can run. Errors: invalid_argument with the reason.
Status check_protocol_model(const std::string& model);

/// What one evaluation wrote.
struct EvaluateOutcome {
  eval::EvaluationResult result;
  std::vector<std::filesystem::path> files;  ///< every file written, relative to out_dir
  /// A markdown section (headline table against the peers, links prefixed by `link_prefix`) for a
  /// surrounding report; summary.md holds the full version.
  std::vector<std::string> headline_md;
  bool partial = false;               ///< a shard: records only, no report
  std::size_t tasks_total = 0, tasks_run = 0, tasks_reused = 0;
  double task_seconds = 0.0;          ///< sum of the tasks' wall times (every seed and protocol)
  double longest_task_seconds = 0.0;
  std::size_t mpi_ranks = 0;          ///< > 0: the tasks ran on this many MPI ranks
  std::size_t mpi_handed_back = 0;    ///< tasks a rank lost and another ran
  double mpi_wall_seconds = 0.0;      ///< first task handed out to last record
};

/// Evaluates `recordings` (a loaded uci-lower-limb folder) and writes the report into opt.out_dir.
/// `link_prefix` is prepended to the file links of headline_md (e.g. "evaluation/").
/// Errors: invalid_argument (protocol/model/subject), those of eval::prepare_data / run_protocol, io.
Result<EvaluateOutcome> evaluate_recordings(const Context& ctx, std::span<const io::Recording> recordings,
                                            const EvaluateOptions& opt, const std::string& link_prefix = "");

/// `myoexo evaluate --target knee_angle`: angle_metrics.json, summary.md, per-subject RMSE bars and traces.
Status run_evaluate_angle(const Context& ctx, const EvaluateOptions& opt);
/// The same on recordings already loaded; returns the Markdown table (protocol, movements, RMSE, NMAE, R^2).
Result<std::string> evaluate_angle_recordings(const Context& ctx, std::span<const io::Recording> recordings,
                                              const EvaluateOptions& opt);

/// `myoexo evaluate --model-file M`: scores a trained model on the recordings it was not trained on (its card
/// lists its training files): metrics.json, summary.md, confusion.png, per_class.png in opt.out_dir.
/// Errors: those of load_model and model_window_probabilities, invalid_argument (unknown subject), empty
/// (nothing left to test), io.
Status run_evaluate_model_file(const Context& ctx, const EvaluateOptions& opt);

struct MergeOptions {
  std::vector<std::filesystem::path> shards;  ///< the shards' output folders (or their tasks/ folders)
  std::filesystem::path out_dir = "evaluation";
  std::optional<std::filesystem::path> data;  ///< unset = where the shards read it (their records say)
  bool plots = true;
};

/// `myoexo merge`: the settings come from the shards' records; the data are loaded again (the report's plots and
/// the fingerprint check need them) and the report is written as `evaluate` would have. Errors: empty (no
/// records, or a task no shard finished: nothing written), mismatch (records of different runs or data), those of
/// evaluate_recordings.
Status run_merge(const Context& ctx, const MergeOptions& opt);

/// `myoexo evaluate`: loads the data folder, runs evaluate_recordings, prints the summary on ctx.out.
Status run_evaluate(const Context& ctx, const EvaluateOptions& opt);

}  // namespace myoexo::app
