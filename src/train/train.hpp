// myoexo::train — training LibTorch networks (models::TorchClassifier) on windowed EMG.
//
// The caller (eval's protocol code, the CLI) filters recordings and cuts windows with the dsp objects the
// live stream uses; this stage takes those windows as a TrainingSet and does everything after: the
// validation split, per-channel standardisation fitted on the training windows only (stored in the model),
// Adam with weight decay and a learning-rate schedule, best checkpoint by validation loss, early stopping,
// seeds and deterministic mode, a progress bar, and the per-epoch history (CSV + series for plots).
//
// Torch-free header: LibTorch stays inside train.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "models/torch/network_spec.hpp"
#include "models/torch/torch_classifier.hpp"

namespace myoexo::train {

/// Windows ready for a network. X holds n windows, each [channels x length] channel-major, filtered but not
/// standardised. Labels are class ids into the spec's class names. The id vectors are optional (empty)
/// unless the validation split needs them.
struct TrainingSet {
  std::size_t channels = 0;
  std::size_t length = 0;            ///< samples per window
  std::vector<float> X;              ///< [n x channels x length]
  std::vector<int> y;                ///< [n] class ids, 0 <= y < n_classes
  /// Regression: [n] targets (e.g. the standardised knee angle); non-empty = the network has one output, trained
  /// with the mean squared error, and the epochs' accuracies are NaN. y still holds a label per window (it
  /// steers nothing but the size checks).
  std::vector<float> target;
  std::vector<int> subject;          ///< [n] subject id (needed by ValidationSplit::by_subject)
  std::vector<int> recording;        ///< [n] recording id (chronological split is per recording; empty = one)
  std::vector<std::size_t> start;    ///< [n] window start sample within its recording (empty = index order)
  std::size_t size() const noexcept { return y.size(); }
};

enum class LrSchedule { constant, step, cosine };
enum class ValidationSplit {
  none,           ///< train on everything; the last epoch is kept
  chronological,  ///< per recording, the last `validation_fraction` of its windows (train windows overlapping
                  ///< them are dropped, so no sample is in both)
  by_subject,     ///< round(validation_fraction * subjects) whole subjects (>= 1), drawn with the seed
};
enum class Trainable {
  all,   ///< every parameter
  head,  ///< the dense layers only; features and BatchNorm statistics frozen (calibration fine-tuning)
};

const char* lr_schedule_name(LrSchedule s) noexcept;            ///< "constant", "step", "cosine"
const char* validation_split_name(ValidationSplit s) noexcept;  ///< "none", "chronological", "subject"

/// Every training knob; the [train] table of a config (keys = field names, enums as the names above).
struct TrainConfig {
  std::size_t epochs = 100;            ///< >= 1 (the seed's 100)
  std::size_t batch_size = 64;         ///< >= 1; a trailing batch of one window is skipped (BatchNorm)
  double learning_rate = 1e-3;         ///< Adam's lr, > 0
  double weight_decay = 0.0;           ///< L2 added to the gradient (torch.optim.Adam's weight_decay), >= 0
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  LrSchedule schedule = LrSchedule::constant;
  std::size_t step_size = 30;          ///< step: lr *= gamma every step_size epochs
  double gamma = 0.1;
  double min_learning_rate = 0.0;      ///< cosine: lr goes from learning_rate to this over `epochs`
  ValidationSplit validation = ValidationSplit::chronological;
  double validation_fraction = 0.2;    ///< in (0, 1) when validation != none
  std::size_t early_stopping_patience = 0;  ///< stop after this many epochs without a better val loss; 0 = off
  bool balance_classes = false;        ///< weight the loss by inverse training class frequency
  Trainable trainable = Trainable::all;
  std::uint64_t seed = 42;             ///< weights, shuffling, dropout, subject draw
  bool deterministic = true;           ///< LibTorch deterministic algorithms (same seed -> same weights)
  int threads = 1;                     ///< torch::set_num_threads; 0 = leave LibTorch's default
  bool progress = false;               ///< progress bar on stderr (loss, accuracy, ETA)
  /// The bar redraws itself ('\r') only when stderr is a terminal; into a log file or a pipe it is one line per
  /// epoch. false: the bar whatever stderr is.
  bool progress_bar_only_on_terminal = true;
  std::filesystem::path history_csv;   ///< rewritten after every epoch when non-empty
};

/// Parses the [train] table (other tables ignored; unknown keys in [train] are errors).
Result<TrainConfig> parse_train_config(std::string_view toml_text, const std::string& display_name = "<toml>");
Result<TrainConfig> load_train_config(const std::filesystem::path& path);
Status validate_train_config(const TrainConfig& cfg);

/// One epoch's numbers; val_* are NaN without a validation split. Accuracy in [0, 1].
struct EpochRecord {
  std::size_t epoch = 0;  ///< 1-based
  double train_loss = 0, train_accuracy = 0, val_loss = 0, val_accuracy = 0;
  double learning_rate = 0;
  double seconds = 0;     ///< wall time of the epoch (training + validation)
};

struct TrainHistory {
  std::vector<EpochRecord> epochs;
  std::size_t best_epoch = 0;        ///< 1-based epoch whose weights the model holds
  bool stopped_early = false;
  std::size_t train_windows = 0, val_windows = 0;
  double samples_per_second = 0;     ///< training windows per second of training-step time

  /// One column over epochs: "train_loss", "train_accuracy", "val_loss", "val_accuracy", "learning_rate",
  /// "seconds" (empty for an unknown name). For the report stage's curves.
  std::vector<double> series(std::string_view name) const;
};

/// CSV "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds" (NaN written as "nan").
Status write_history_csv(const TrainHistory& history, const std::filesystem::path& path);

/// Per-channel mean and (population) standard deviation of rows [n x channels x per_channel] (floors the
/// std at 1e-12 relative to the largest so a dead channel does not divide by zero).
models::Normalisation fit_normalisation(const float* rows, std::size_t n, std::size_t channels,
                                        std::size_t per_channel);

struct TrainResult {
  models::TorchClassifier model;
  TrainHistory history;
};

/// Trains a new network. spec.class_names must be set (>= 2; exactly 1 for a regression set, data.target); its normalisation is replaced by one fitted on
/// the training windows. data.channels / data.length must match spec.input. Errors: invalid_argument
/// (shapes, labels, config), mismatch (data vs spec).
Result<TrainResult> train_network(const models::NetworkSpec& spec, const TrainingSet& data, const TrainConfig& cfg);

/// Continues training `model` on `data` (calibration / transfer learning): normalisation and class names
/// are kept, cfg.trainable picks full or head-only fine-tuning. The model is updated in place.
Result<TrainHistory> fine_tune(models::TorchClassifier& model, const TrainingSet& data, const TrainConfig& cfg);

}  // namespace myoexo::train
