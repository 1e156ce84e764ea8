// `myoexo train`, `myoexo predict` and `myoexo calibrate`: LibTorch networks
// driven by config files. Only built with LibTorch (MYOEXO_HAVE_TORCH); without it the commands are absent
// from the CLI.
//
// All three prepare data the way protocol UCI-LL v1 does (eval::uci_ll_v1_spec: channel selection, the
// copies 2Npie/2Nsen dropped, causal Butterworth band-pass from zero state per recording), with the window
// geometry, channels and filter of the config's [input] table, so a trained model file describes exactly
// the windows it was trained on and `predict`/`run` rebuild them from the file alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "app/common.hpp"
#include "core/error.hpp"
#include "eval/protocol.hpp"
#include "io/io.hpp"
#include "models/torch/network_spec.hpp"
#include "train/train.hpp"

namespace myoexo::app {

/// A network config: a name ("cnn1d" -> <source tree>/configs/cnn1d.toml) or the path of a .toml file.
/// Errors: invalid_argument (the file does not exist, naming the path tried).
Result<std::filesystem::path> resolve_network_config(const std::string& name_or_path);

/// A network config read whole: where it is, its network ([input], [model]) and its training ([train]).
struct NetworkConfig {
  std::filesystem::path path;
  models::NetworkSpec network;
  train::TrainConfig train;
};
/// resolve_network_config, then both tables. Errors: those of resolving and reading the file.
Result<NetworkConfig> load_network_config(const std::string& name_or_path);

/// Recordings of `ds` whose subject is in `keep` (empty = all) and not in `drop`. Every name in keep/drop
/// must be a subject of `ds` (else invalid_argument listing the subjects there are).
Result<std::vector<io::Recording>> select_subjects(io::Dataset& ds, const std::vector<std::string>& keep,
                                                   const std::vector<std::string>& drop);

/// UCI-LL v1 (eval::uci_ll_v1_spec) with the channels, window geometry, filter and wavelet stage of a network
/// config's [input]. Errors: invalid_argument (a filter other than a causal band-pass or none: the protocol's
/// data preparation only knows those).
Result<eval::DataSpec> data_spec_for_network(const models::NetworkSpec& net);

/// Every window of `data` (spec's length and increment, whole recordings) whose samples share one label, added
/// to `set` (which then refers to `data`); returns their indices.
std::vector<std::size_t> labelled_windows(const eval::PreparedData& data, const eval::DataSpec& spec, eval::WindowSet& set);

// ---- train --------------------------------------------------------------------------------------------------

struct TrainCommandOptions {
  std::string config = "cnn1d";                     ///< see resolve_network_config
  /// "lda" (HTD) or "lda_context" (log-amplitude features over the window and `context_samples` past samples):
  /// an LDA pipeline model (JSON, session/model.hpp); another name is a network config (as `config`); "" = the
  /// network of `config`.
  std::string model;
  std::size_t context_samples = 750;                ///< lda_context only
  std::optional<std::filesystem::path> data;        ///< data-set folder; unset = <data root>/uci-lower-limb
  std::vector<std::string> subjects;                ///< subjects to train on (empty = all)
  std::vector<std::string> exclude_subjects;        ///< subjects left out (applied after `subjects`)
  /// lda / lda_context: the channels to train on, in order; empty = RF, BF, VM, ST when the data has them (UCI),
  /// else every channel of the data that is not an angle (a board's A0..A3).
  std::vector<std::string> channels;
  std::optional<std::size_t> epochs;                ///< overrides [train] epochs (>= 1)
  std::optional<int> threads;                       ///< overrides [train] threads (0 = LibTorch's default)
  std::optional<std::uint64_t> seed;                ///< overrides [train] seed
  std::filesystem::path out = "model.pt";           ///< the model file (parent folder created)
  std::optional<std::filesystem::path> history;     ///< CSV; unset = <out stem>_history.csv next to the model
  std::optional<std::filesystem::path> torchscript; ///< also export a TorchScript module here
  bool plots = true;                                ///< <out stem>_accuracy.png and <out stem>_loss.png
  /// Start from this network file's weights and normalisation (fine-tuning every layer) instead of a fresh
  /// network; its channels, window and classes must be the data's. The config's [train] still sets the rest.
  std::optional<std::filesystem::path> init;
  /// Band-pass and wavelet stage instead of the config's (networks) or the default 20-450 Hz without wavelets
  /// (LDA); the model file records what was used, and `run` applies the same.
  FrontEndOverride front_end;
  /// lda / lda_context: also a knee-angle regressor on the goniometer of the same recordings: "ridge", "trees" or
  /// a network config (cnn1d_context); "" = none. Trees and networks read past samples the LDA's context must keep.
  std::string knee_model;
  /// knee_model trees: that subject's trees, pooled over every training subject and mixed with their own ("" = one
  /// model over everyone).
  std::string knee_person;
  std::optional<std::size_t> knee_epochs;           ///< a network knee_model: overrides its [train] epochs
};

/// Trains one network on the whole recordings of the chosen subjects: windows of the config's geometry,
/// validation and every knob from [train] (progress bar on stderr unless --quiet). Writes the model file
/// (weights, architecture, normalisation, channels, filter, window geometry, classes), the history CSV and
/// the training curves (accuracy and loss, train and validation, per epoch), then prints a summary on
/// ctx.out: windows, best epoch, validation accuracy, wall time, training samples/s.
/// Errors: invalid_argument (config, unknown subject, no subject left), those of load/prepare/train, io.
Status run_train(const Context& ctx, const TrainCommandOptions& opt);

// ---- predict ------------------------------------------------------------------------------------------------

struct PredictOptions {
  std::filesystem::path model;                  ///< a `myoexo train` model file
  std::filesystem::path input;                  ///< one recording (any format io::read_recording reads)
  std::optional<std::filesystem::path> out;     ///< predictions CSV; unset = print the summary only
  std::size_t batch = 256;                      ///< windows per predict_proba call (>= 1)
};

/// Reads `input`, picks the model's channels by name, filters them with the model's recorded filter (causal
/// SosFilter from zero state, as the live stream; sosfiltfilt only if the model says non-causal), cuts
/// windows with the model's geometry (starts 0, increment, ... while a whole window fits) and classifies
/// them. CSV columns: window_start_s, window_end_s, predicted, p_<class>... (one row per window). Prints
/// the class histogram and, when the file carries a per-file label that is one of the model's classes, the
/// accuracy. Errors: mismatch (channels missing, other sample rate), invalid_argument (too short), io, parse.
Status run_predict(const Context& ctx, const PredictOptions& opt);

// ---- calibrate ----------------------------------------------------------------------------------------------

struct CalibrateOptions {
  std::string config = "cnn1d";                 ///< see resolve_network_config
  std::optional<std::filesystem::path> data;    ///< data-set folder; unset = <data root>/uci-lower-limb
  std::vector<std::string> subjects;            ///< held-out subjects (empty = every subject)
  /// Subjects the leave-one-subject-out models may train on (empty = every subject that is not held out);
  /// recordings of other subjects are not loaded into the run at all.
  std::vector<std::string> train_subjects;
  std::vector<double> seconds{2, 5, 10, 20};    ///< calibration seconds per recording (> 0)
  std::vector<std::string> modes{"head", "full"};
  std::optional<std::size_t> epochs;            ///< LOSO base training epochs (default: the config's)
  std::size_t fine_tune_epochs = 20;            ///< fine-tuning epochs (>= 1)
  std::optional<double> fine_tune_lr;           ///< fine-tuning learning rate (default: the config's)
  std::size_t jobs = 0;                         ///< subjects processed at once (1 torch thread each); 0 = cores, max 4
  std::filesystem::path out_dir = "calibration";
  bool plots = true;
  /// Folder of leave-one-subject-out models L_<subject>.pt (`myoexo evaluate --protocol L --save-loso-models
  /// all`) to start from instead of training them again; they must come from the same config.
  std::optional<std::filesystem::path> loso_models;
  /// A new person's calibration instead of the protocol: the model to start from (a LibTorch network, fine-tuned
  /// with the first --seconds of each of the person's recordings, or an LDA pipeline model, refitted on them) and
  /// the calibrated model file to write (`run` and the console load it). The rest of each recording scores both.
  std::optional<std::filesystem::path> model;
  std::optional<std::filesystem::path> model_out;
  /// With `model`: score on the windows after this time (default: the calibration seconds). One value for several
  /// calibration times scores them all on the same windows.
  std::optional<double> test_from_s;
  /// With an LDA `model`: "refit" (the discriminant fitted on the person's windows alone) or "adapt" (class means
  /// and covariance moved towards the person's, the base weighing as much as `base_weight_windows` of them).
  std::string lda_method = "refit";
  double base_weight_windows = 100.0;
};

/// Runs eval::run_calibration and writes out_dir/calibration.json (the cells, means and
/// the options), calibration.md (the table) and calibration.png (mean accuracy against calibration seconds,
/// one line per mode starting at the 0-s LOSO baseline, plus the baseline as a horizontal line); prints
/// the table on ctx.out. Errors: invalid_argument (config, subject, seconds, modes), those of
/// eval::run_calibration, io.
Status run_calibrate(const Context& ctx, const CalibrateOptions& opt);

}  // namespace myoexo::app
