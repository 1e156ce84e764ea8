// myoexo::app — model files: the one loader every command uses (`run`, `serve`, `predict`, `evaluate
// --model-file`, the report), and the one offline way to classify a recording's windows with a loaded model.
//
// Two containers carry one description (session::PipelineModel): a pipeline-model JSON for the LDA family and a
// LibTorch archive ("myoexo-torch-model") for networks, whose metadata holds the same card (signal unit, class ->
// intent map, training files, provenance; models/model_card.hpp). The kind is told from the first bytes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/recording.hpp"
#include "session/model.hpp"

namespace myoexo::app {

/// What a --model file is, from its first bytes: a LibTorch model file is a zip archive ("PK\x03\x04"), a
/// pipeline-model / LDA file is JSON (first non-blank byte '{'). Errors: io (unreadable), parse (neither).
enum class ModelFileKind { pipeline_json, torch };
Result<ModelFileKind> detect_model_file_kind(const std::filesystem::path& path);

/// Loads a LibTorch model file as a PipelineModel whose channels, rate, filter and window come from the
/// network's spec and whose unit, class map and provenance come from its card. Errors: unsupported (built
/// without LibTorch), io, parse, invalid_argument (window geometry or rate out of range, a filter kind the
/// stream cannot run). The class -> intent map is checked when a session is configured from the model.
Result<session::PipelineModel> load_torch_model(const std::filesystem::path& path);

/// Either kind of model file (detect_model_file_kind, then load_pipeline_model or load_torch_model).
Result<session::PipelineModel> load_model(const std::filesystem::path& path);

/// "lda", "lda_context" or the network's architecture ("cnn1d", ...).
std::string model_classifier_name(const session::PipelineModel& m);

/// Class probabilities of every window of a recording.
struct WindowProbabilities {
  std::vector<std::string> classes;
  std::vector<double> probs;  ///< [n_windows x classes]; NaN for a window that could not be classified
  std::size_t n_windows = 0, len = 0, inc = 0;
  double fs_hz = 0.0;
};

/// Every window of `rec` (the model's channels by name, converted from the file's unit to the model's or
/// refused) through the model: an LDA pipeline model through the live pipeline's own causal filter, windows and
/// features (realtime::decide_offline); a network on the model's filtered windows (zero-phase when it was trained
/// so), `batch` windows per call. Errors: mismatch (channels, rate, unit), invalid_argument (shorter than one
/// window), unsupported (more classes than a decision carries).
/// The label a window [start, start + len) of `rec` should be decided as, the way a stream meets it: the file's
/// label, else the per-sample label of its last sample ("" when unlabelled).
std::string window_label(const io::Recording& rec, std::size_t start, std::size_t len);

Result<WindowProbabilities> model_window_probabilities(const session::PipelineModel& m, const io::Recording& rec,
                                                       std::size_t batch = 256);

}  // namespace myoexo::app
