// myoexo::models (models/torch) — a LibTorch network (CNN1d, SpectrogramCNN, LSTM, CNN-LSTM) behind the
// shared Classifier interface, plus its model file and TorchScript export.
//
// This header is torch-free (pimpl): the eval, realtime and app stages include it without paying for
// LibTorch's headers. Training lives in src/train (train::train_network) and reaches the network through
// the internal header models/torch/network_impl.hpp.
//
// Inference paths:
//  - CNN1d: a frozen copy (BatchNorm folded, a direct convolution kernel, see frozen_cnn1d.hpp) serves every row: no
//    LibTorch dispatch and no allocation after reserve(); the batch-1 real-time path.
//  - other architectures: LibTorch under torch::InferenceMode on a tensor preallocated by reserve() and
//    warmed up once (LibTorch itself may still allocate intermediates inside its operators).
//
// Model file (format "myoexo-torch-model", version 1): a LibTorch serialize archive (a zip, as written by
// torch::save) holding every parameter and buffer under its module path (e.g. "conv0.weight",
// "bn0.running_mean") and two extra entries: "myoexo_format" (int, = 1) and "myoexo_spec" (string, the
// NetworkSpec as JSON: input channels, window geometry, filter settings, normalisation statistics, class
// names, architecture). Nothing else is needed to rebuild and run the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "models/classifier.hpp"
#include "models/torch/network_spec.hpp"

namespace myoexo::models {

class TorchClassifier final : public Classifier {
 public:
  /// A freshly initialised network (LibTorch's default init, seeded by `seed`). spec.class_names must hold
  /// >= 2 names. Errors: invalid_argument.
  static Result<TorchClassifier> create(const NetworkSpec& spec, std::uint64_t seed = 0);

  /// Reads a model file. When `expected_channels` is non-empty it must equal the file's channel names (same
  /// order), else ErrorCode::mismatch naming both lists. Errors: io, parse (not a model file / bad metadata),
  /// mismatch.
  static Result<TorchClassifier> load(const std::filesystem::path& path,
                                      std::span<const std::string> expected_channels = {});
  /// Writes the model file (see the format above). Errors: io.
  Status save(const std::filesystem::path& path) const;

  /// Writes a TorchScript module (torch.jit.load in Python, no project code needed) whose forward(x)
  /// returns class probabilities [n, n_classes] for x:
  ///  - cnn1d, lstm, cnn_lstm: raw filtered windows, float32 [n, channels, window_length];
  ///  - spectrogram_cnn: the dB spectrogram (SpectrogramTransform's output), float32 [n, channels, F, T].
  /// Normalisation is part of the module. Errors: io.
  Status export_torchscript(const std::filesystem::path& path) const;

  const NetworkSpec& spec() const noexcept;
  /// Replaces the model card (unit, class -> intent map, training files, provenance): a calibrated copy says what
  /// it was adapted from. The weights and the rest of the spec are untouched.
  void set_card(ModelCard card);

  /// The network's raw outputs [n_rows x n_classes] (no softmax): the value of a one-output regressor (the
  /// knee angle). CNN1d: the frozen path (allocation-free on success); others: LibTorch's forward. Same input
  /// checks as predict_proba.
  Status predict_outputs(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* out);
  /// Replaces every output y by scale * y + offset by rescaling the output layer (weights and bias): a regressor
  /// trained on a standardised target then answers in the target's own unit. Errors: invalid_argument (a
  /// non-finite scale or offset).
  Status scale_outputs(double scale, double offset);
  /// Probabilities of `n_rows` windows through LibTorch's own forward (no frozen path), for tests and tools.
  /// Same shapes as predict_proba.
  Status predict_proba_reference(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* out_probs);

  // ---- Classifier ----
  std::size_t n_inputs() const noexcept override;    ///< channels * window_length
  std::size_t n_classes() const noexcept override;
  const std::vector<std::string>& class_names() const noexcept override;
  const std::vector<std::string>& input_names() const noexcept override;  ///< channel names
  InputKind input_kind() const noexcept override { return InputKind::windows; }
  /// Preallocates input tensors/scratch for up to max_rows windows (>= 1) and runs one warm-up forward.
  Status reserve(std::size_t max_rows) override;
  /// inputs: [n_rows x (channels * window_length)] (each row one window, channel-major). Rows beyond the
  /// reserve are processed in chunks of the reserved size (reserve(1) is done on first use if needed, which
  /// allocates once). Errors: invalid_argument (n_cols, non-finite input).
  Status predict_proba(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* out_probs) override;

  TorchClassifier(TorchClassifier&&) noexcept;
  TorchClassifier& operator=(TorchClassifier&&) noexcept;
  /// Deep copy (weights cloned): one copy per thread.
  TorchClassifier(const TorchClassifier& other);
  TorchClassifier& operator=(const TorchClassifier& other);
  ~TorchClassifier() override;

  struct Impl;  ///< defined in models/torch/network_impl.hpp (LibTorch); used by src/train
  Impl& impl() noexcept { return *impl_; }
  const Impl& impl() const noexcept { return *impl_; }

 private:
  explicit TorchClassifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace myoexo::models
