// myoexo::eval — LibTorch networks (CNN1d, SpectrogramCNN, LSTM, CNN-LSTM) as protocol models, and the
// calibration (transfer-learning) protocol.
//
// Torch-free header: everything goes through train's and models/torch's torch-free headers, so this stage's
// files never include LibTorch. Only built when LibTorch is (MYOEXO_HAVE_TORCH).
//
// Windows -> tensors: a protocol window [start, start + length) becomes a network input of
// context_samples + length samples ending at the window's last sample (context 0 = the window itself). The
// context never reaches before the window's segment origin (0, or the W/P split point for test windows): the
// missing past is zeros, exactly what a live stream whose filter starts from zero state would have seen. So
// the test windows and split rules stay as UCI-LL v1 defines them and no training sample feeds a test input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "eval/angle_protocol.hpp"
#include "eval/protocol.hpp"
#include "models/torch/network_spec.hpp"
#include "models/torch/torch_classifier.hpp"
#include "train/train.hpp"

namespace myoexo::eval {

/// Copies windows `idx` of `set` into a TrainingSet (float, [n x channels x (context + length)]), with
/// labels, subject, recording and start (so chronological / by-subject validation work).
train::TrainingSet make_training_set(const WindowSet& set, std::span<const std::size_t> idx,
                                     std::size_t context_samples = 0);

struct NetworkFitOptions {
  std::size_t context_samples = 0;  ///< declared variant: past samples the network sees before each window
  /// Seed of fold f = cfg.seed + seed_stride * f (so folds differ but a run is reproducible).
  std::uint64_t seed_stride = 1;
  std::size_t predict_batch = 256;  ///< windows per predict_proba call
  /// Called after each fold's training (from the fold's thread; calls are serialised by a mutex).
  std::function<void(const FoldContext&, const train::TrainHistory&, const models::TorchClassifier&)> on_trained;
};

/// The network model of the protocol: for each fold a fresh network from `spec` (input channels, window
/// geometry and class names are taken from the data; spec.arch is kept) is trained with `cfg` on the train
/// windows (validation per cfg.validation, inside the train windows only) and predicts the test windows.
/// Thread-safe: RunOptions::parallel_folds may be > 1 (then give cfg.threads = 1).
FitPredictFn make_network_fit_predict(const models::NetworkSpec& spec, const train::TrainConfig& cfg,
                                      const NetworkFitOptions& options = {});

/// A network as a knee-angle regressor (eval::run_angle_protocol): per fold a fresh network from `spec` with one
/// output, trained with the mean squared error on the fold's targets standardised by their training mean and
/// standard deviation (so the loss is in units of the angle's spread), predicting the test windows' angle in
/// degrees. Validation per cfg.validation inside the training windows only. Thread-safe as above.
RegressFn make_network_regress(const models::NetworkSpec& spec, const train::TrainConfig& cfg,
                               const NetworkFitOptions& options = {});

/// Trains a knee-angle network: a fresh network from `spec` (class names replaced by one output,
/// models::kKneeAngleOutputName) on windows `idx` of `set` (each with `context_samples` past samples) and their
/// targets in degrees, with the mean squared error on the targets standardised by their mean and standard
/// deviation; the standardisation is then folded into the output layer, so the model answers in degrees.
/// Validation per cfg.validation inside these windows. Errors: those of train::train_network.
Result<train::TrainResult> train_angle_network(const models::NetworkSpec& spec, const WindowSet& set,
                                               std::span<const std::size_t> idx, std::span<const double> targets,
                                               const train::TrainConfig& cfg, std::size_t context_samples);

/// The network spec for prepared data: channels, rate, window length (+ context), increment, filter settings
/// and class names from `data`/`spec`, architecture from `arch_spec`.
models::NetworkSpec network_spec_for(const PreparedData& data, const DataSpec& spec, const models::NetworkSpec& arch_spec,
                                     std::size_t context_samples = 0);

// ---- Calibration (transfer learning, section 6) -------------------------------------------------------------

enum class FineTuneMode { head, full };
const char* fine_tune_mode_name(FineTuneMode m) noexcept;  ///< "head", "full"

struct CalibrationOptions {
  std::vector<double> seconds{2, 5, 10, 20};  ///< calibration seconds per recording of the new person
  std::vector<FineTuneMode> modes{FineTuneMode::head, FineTuneMode::full};
  std::vector<std::string> subjects;          ///< held-out subjects (empty = all)
  train::TrainConfig base;                    ///< training of the leave-one-subject-out model
  train::TrainConfig fine_tune;               ///< fine-tuning (trainable is set per mode; validation none)
  NetworkFitOptions network;
  std::size_t parallel_subjects = 1;          ///< subjects processed at the same time (threads)
  /// Optional: the leave-one-subject-out model of a subject (e.g. `myoexo evaluate --protocol L
  /// --save-loso-models` files) instead of training one with `base`. Must have been trained without that
  /// subject (the caller's promise) and on the same channels/window geometry (checked).
  std::function<Result<models::TorchClassifier>(const std::string& subject)> base_model;
  std::function<void(const std::string&)> progress;
};

/// One (subject, seconds, mode) cell. seconds = 0 is the un-adapted LOSO model on the same test windows.
struct CalibrationCell {
  std::string subject;
  double seconds = 0;
  std::string mode;       ///< "none" for seconds = 0
  std::size_t n_calibration = 0, n_test = 0;
  double accuracy = 0, balanced_accuracy = 0, macro_f1 = 0;
};

struct CalibrationResult {
  std::vector<double> seconds;
  std::vector<std::string> modes;
  std::vector<CalibrationCell> cells;
  /// Mean accuracy over subjects of (seconds, mode); seconds 0 -> the LOSO baseline (mode "none").
  double mean_accuracy(double seconds, const std::string& mode) const;
};

/// For each held-out subject: train on every other subject (whole recordings), then for each N in seconds
/// fine-tune a copy on the windows lying entirely in the first N s of each of the subject's recordings
/// (head-only and/or full) and test on the windows lying entirely after the largest N (the same test windows
/// for every N and mode, so the curve compares like with like). Errors: as run_protocol, invalid_argument
/// (a subject whose recordings are too short for max(seconds) plus one window).
Result<CalibrationResult> run_calibration(const PreparedData& data, const DataSpec& spec,
                                          const models::NetworkSpec& arch_spec, const CalibrationOptions& options);

/// calibration.json: {"seconds", "modes", "cells": [...], "mean": {"<mode>": [acc per seconds]}, "baseline"}.
nlohmann::json calibration_to_json(const CalibrationResult& r);
/// Markdown table: rows = seconds (0 = no calibration), columns = modes, cells = mean (min) accuracy.
std::string calibration_table_markdown(const CalibrationResult& r);

}  // namespace myoexo::eval
