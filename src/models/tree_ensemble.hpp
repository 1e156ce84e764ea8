// myoexo::models — gradient-boosted regression trees on the amplitude history of the filtered EMG, as a live
// knee-angle estimator.
//
// Why: the knee angle is a non-linear function of how the muscles' amplitudes evolved over the last second (a linear
// map of the same history stays at 10-12 % NMAE under protocol W, trees per person reach ~8 %: README, "Continuous
// knee angle"). The features are the log RMS and waveform length of consecutive segments of each channel ending at
// the decision's last sample (LaggedEnvelope); the trees are trained by XGBoost (gradient_boosting.hpp, the training layer) and kept
// here as flat node arrays, so estimating walks them with no allocation and no XGBoost at run time.
// Torch-free and XGBoost-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "models/angle_regressor.hpp"

namespace myoexo::models {

/// Log RMS of `segments` consecutive `segment`-sample stretches per channel, the newest ending at the window's last
/// sample: feature [c * segments + k] = 0.5 * ln(max(mean of x^2 over segment k of channel c, 1e-24)), k = 0 the
/// newest; with waveform_length, then the log of each segment's waveform length per sample, feature
/// [(channels + c) * segments + k] = ln(max(sum of |x[i] - x[i-1]| inside segment k / segment, 1e-24)) (how fast
/// the signal moves, which the amplitude alone does not say). A segment of zeros only (the live stream's zeros
/// before its start, the offline protocols' zeros before a segment's origin) takes the values of the segment after
/// it (the oldest amplitude there is, held backwards); when the newest is all zeros (a dead channel) the channel's
/// features are NaN: missing, which trees route by their default branches. The window is window_length() =
/// segment * segments samples per channel.
struct LaggedEnvelope {
  std::size_t segment = 50;   ///< samples per segment, >= 1
  std::size_t segments = 20;  ///< segments per channel, >= 1
  /// Also the waveform length of each segment. Model files written before it existed read false.
  bool waveform_length = true;
  std::size_t window_length() const noexcept { return segment * segments; }
  std::size_t n_features(std::size_t channels) const noexcept {
    return channels * segments * (waveform_length ? 2 : 1);
  }
  /// `window` channel-major [channels x window_length()]; `out` n_features(channels) values. No allocation.
  void compute(const double* window, std::size_t channels, float* out) const noexcept;
  /// "log RMS" or "log RMS and log waveform length" of S x L-sample segments per channel (for reports).
  std::string describe() const;
};

/// Regression trees as XGBoost grows them: at an inner node go left when x[feature] < threshold (as float), or
/// when x[feature] is NaN and the node's default is left; a leaf holds its value. The estimate is base_score plus
/// the sum of one leaf per tree.
class TreeEnsemble {
 public:
  struct Node {
    std::int32_t feature = -1;  ///< -1 at a leaf
    float threshold = 0.0f;     ///< inner node: split; leaf: value
    std::int32_t left = -1, right = -1;
    bool default_left = false;
  };

  /// Checks every tree: children inside the tree, no cycle (children after their parent), features below n_features.
  /// Errors: invalid_argument.
  static Result<TreeEnsemble> create(std::vector<std::vector<Node>> trees, double base_score, std::size_t n_features);

  double predict(const float* x) const noexcept;

  /// The same ensemble with features [keep, n_features()) held at `fixed` (n_features() - keep values, NaN =
  /// missing): every split on them is decided now, so the result reads the first `keep` features and predicts for
  /// x what predict(x followed by fixed) predicts. How a model pooled over people, with a person indicator among its
  /// inputs, becomes that person's model. Errors: invalid_argument (keep 0 or above n_features, wrong size).
  Result<TreeEnsemble> fix_trailing_features(std::size_t keep, std::span<const float> fixed) const;

  /// w_a * a(x) + w_b * b(x) as one ensemble (both read the same features): the trees of both, each leaf scaled by
  /// its ensemble's weight (rounded to float, as leaves are kept). Errors: invalid_argument (feature counts differ,
  /// a weight not finite).
  static Result<TreeEnsemble> weighted_sum(const TreeEnsemble& a, double w_a, const TreeEnsemble& b, double w_b);
  /// The sum of parts[i] weighted by weights[i] (same sizes, >= 1 part), as above.
  static Result<TreeEnsemble> weighted_sum(std::span<const TreeEnsemble> parts, std::span<const double> weights);
  std::size_t n_trees() const noexcept { return roots_.size(); }
  std::size_t n_features() const noexcept { return n_features_; }
  double base_score() const noexcept { return base_score_; }

  /// {"base_score", "n_features", "trees": [{"feature": [...], "threshold": [...], "left": [...], "right": [...],
  /// "default_left": [...]}, ...]}; from_json checks it as create does. Errors: parse, invalid_argument.
  nlohmann::json to_json() const;
  static Result<TreeEnsemble> from_json(const nlohmann::json& j);

 private:
  std::vector<std::vector<Node>> split_trees() const;  ///< each tree's nodes, indices local to the tree
  std::vector<Node> nodes_;            ///< every tree's nodes, tree after tree
  std::vector<std::int32_t> roots_;    ///< index of each tree's first node in nodes_
  double base_score_ = 0.0;
  std::size_t n_features_ = 0;
};

/// The knee angle from the lagged envelope of the window the stream keeps (AngleRegressor, raw windows).
class EnvelopeTreeRegressor final : public AngleRegressor {
 public:
  /// The trees must read envelope.n_features(channels) features. Errors: invalid_argument.
  static Result<EnvelopeTreeRegressor> create(LaggedEnvelope envelope, std::size_t channels, TreeEnsemble trees);

  const LaggedEnvelope& envelope() const noexcept { return envelope_; }
  const TreeEnsemble& trees() const noexcept { return *trees_; }
  std::size_t channels() const noexcept { return channels_; }

  InputKind input_kind() const noexcept override { return InputKind::windows; }
  std::size_t n_inputs() const noexcept override { return channels_ * envelope_.window_length(); }
  std::size_t window_length() const noexcept override { return envelope_.window_length(); }
  std::string kind_name() const override { return "trees"; }
  double estimate(std::span<const double> window) noexcept override;
  std::unique_ptr<AngleRegressor> clone() const override;

  /// {"kind": "envelope_trees", "segment", "segments", "waveform_length", "channels", "trees": TreeEnsemble::to_json()}.
  nlohmann::json to_json() const;
  /// Errors: parse, invalid_argument.
  static Result<EnvelopeTreeRegressor> from_json(const nlohmann::json& j);

 private:
  EnvelopeTreeRegressor(LaggedEnvelope e, std::size_t channels, std::shared_ptr<const TreeEnsemble> t)
      : envelope_(e), channels_(channels), trees_(std::move(t)), features_(e.n_features(channels)) {}
  LaggedEnvelope envelope_;
  std::size_t channels_ = 0;
  std::shared_ptr<const TreeEnsemble> trees_;  ///< immutable, shared by clones
  std::vector<float> features_;                ///< scratch, sized on creation
};

}  // namespace myoexo::models
