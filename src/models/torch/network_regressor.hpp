// myoexo::models (models/torch) — a one-output network as the live knee-angle estimator (AngleRegressor).
//
// The network reads the filtered window the stream keeps (channel-major, window_length() samples ending at the
// decision's last sample) and answers in degrees: training standardises the target, and the target's mean and
// spread are folded into the output layer afterwards (TorchClassifier::scale_outputs), so the model file is an
// ordinary network file ("myoexo-torch-model") with one output named "knee_angle_deg". A CNN1d runs on the frozen
// batch-1 path (no allocation per estimate); other architectures run LibTorch's forward.
// Torch-free header (pimpl through TorchClassifier).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "models/angle_regressor.hpp"
#include "models/torch/torch_classifier.hpp"

namespace myoexo::models {

/// The output name a knee-angle network carries (its only "class").
inline constexpr const char* kKneeAngleOutputName = "knee_angle_deg";

class NetworkAngleRegressor final : public AngleRegressor {
 public:
  /// `network` must have one output named kKneeAngleOutputName, already in degrees. Reserves its batch-1 scratch.
  /// Errors: invalid_argument.
  static Result<NetworkAngleRegressor> create(TorchClassifier network);
  /// Reads a network file (TorchClassifier::load, channels checked when given) and checks it is a knee-angle
  /// network. Errors: those of load, mismatch (a classifier, or another output).
  static Result<NetworkAngleRegressor> load(const std::filesystem::path& path,
                                            std::span<const std::string> expected_channels = {});
  Status save(const std::filesystem::path& path) const { return network_->save(path); }

  const TorchClassifier& network() const noexcept { return *network_; }

  InputKind input_kind() const noexcept override { return InputKind::windows; }
  std::size_t n_inputs() const noexcept override { return network_->n_inputs(); }
  std::size_t window_length() const noexcept override;
  std::string kind_name() const override;
  double estimate(std::span<const double> window) noexcept override;
  std::unique_ptr<AngleRegressor> clone() const override;

 private:
  explicit NetworkAngleRegressor(std::shared_ptr<TorchClassifier> network) : network_(std::move(network)) {}
  std::shared_ptr<TorchClassifier> network_;  ///< owned; clone() deep-copies it
};

}  // namespace myoexo::models
