// myoexo::models — the one interface a knee-angle estimator offers the live stream: one estimate per decision.
//
// Why an interface: the stream runs either a linear model on the classifier's own feature row (ridge) or a network
// on the raw filtered window (a one-output CNN, models/torch), and the pipeline, the session and the controller
// must not care which. Torch-free, like Classifier.
//
// Lifecycle: the pipeline keeps its own clone() (a network owns scratch); estimate() then allocates nothing,
// throws nothing and answers NaN for an input it cannot use (wrong size, a non-finite value) — the proportional
// follower's plausibility checks treat NaN as a missing estimate.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "models/classifier.hpp"

namespace myoexo::models {

class AngleRegressor {
 public:
  virtual ~AngleRegressor() = default;

  /// features: the classifier's feature row (same columns); windows: the filtered window, channel-major
  /// [channels x window_length()] samples ending at the decision window's last sample.
  virtual InputKind input_kind() const noexcept = 0;
  /// Values per input (feature columns, or channels * window_length()).
  virtual std::size_t n_inputs() const noexcept = 0;
  /// Raw windows: samples per channel, the decision window's and any past samples before it; 0 for feature rows.
  virtual std::size_t window_length() const noexcept { return 0; }
  /// "ridge", "cnn1d", ... (what a log line or a report names).
  virtual std::string kind_name() const = 0;

  /// The knee angle in degrees, flexion positive; NaN for an input of the wrong size or with a non-finite value.
  /// No allocation, no exception. Not thread-safe on one object: each stream uses its own clone().
  virtual double estimate(std::span<const double> input) noexcept = 0;

  /// An independent copy (own scratch).
  virtual std::unique_ptr<AngleRegressor> clone() const = 0;
};

}  // namespace myoexo::models
