#include "models/torch/network_regressor.hpp"

#include <cmath>
#include <limits>

namespace myoexo::models {

Result<NetworkAngleRegressor> NetworkAngleRegressor::create(TorchClassifier network) {
  if (network.class_names().size() != 1 || network.class_names()[0] != kKneeAngleOutputName)
    return make_error(ErrorCode::invalid_argument, std::string("a knee-angle network has one output named ") +
                                                       kKneeAngleOutputName);
  if (Status s = network.reserve(1); !s) return s.error();
  return NetworkAngleRegressor(std::make_shared<TorchClassifier>(std::move(network)));
}

Result<NetworkAngleRegressor> NetworkAngleRegressor::load(const std::filesystem::path& path,
                                                          std::span<const std::string> expected_channels) {
  auto net = TorchClassifier::load(path, expected_channels);
  if (!net) return net.error();
  if (net->class_names().size() != 1 || net->class_names()[0] != kKneeAngleOutputName)
    return make_error(ErrorCode::mismatch, path.string(), 0,
                      std::string("not a knee-angle network (outputs: ") +
                          (net->class_names().empty() ? std::string() : net->class_names()[0]) +
                          (net->class_names().size() > 1 ? ", ..." : "") + "; expected one named " +
                          kKneeAngleOutputName + ")");
  return create(std::move(*net));
}

std::size_t NetworkAngleRegressor::window_length() const noexcept { return network_->spec().input.window_length; }

std::string NetworkAngleRegressor::kind_name() const { return arch_kind_name(network_->spec().arch.kind); }

double NetworkAngleRegressor::estimate(std::span<const double> window) noexcept {
  double out = std::numeric_limits<double>::quiet_NaN();
  if (window.size() != n_inputs()) return out;
  // Non-finite input comes back as an error Status: the estimate stays NaN.
  if (Status s = network_->predict_outputs(window.data(), 1, window.size(), &out); !s)
    return std::numeric_limits<double>::quiet_NaN();
  return out;
}

std::unique_ptr<AngleRegressor> NetworkAngleRegressor::clone() const {
  auto copy = std::make_shared<TorchClassifier>(*network_);
  (void)copy->reserve(1);
  return std::unique_ptr<AngleRegressor>(new NetworkAngleRegressor(std::move(copy)));
}

}  // namespace myoexo::models
