// myoexo::models — training regression trees with XGBoost (Debian's libxgboost), kept as a TreeEnsemble.
//
// Only training needs XGBoost: the trees it grows are read back from its JSON model into TreeEnsemble's flat
// nodes, which estimate without it. A build without libxgboost answers `unsupported`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.hpp"
#include "models/tree_ensemble.hpp"

namespace myoexo::models {

/// The boosting settings (XGBoost's names). Defaults: measured on the UCI knee angle under protocol W
/// (bench/peer_knee_angle.py's rows, depth 3-6 and 200-300 rounds within 0.1 point of NMAE).
struct GradientBoostingOptions {
  std::size_t rounds = 300;      ///< trees, >= 1
  std::size_t max_depth = 4;     ///< >= 1
  double learning_rate = 0.05;   ///< eta, (0, 1]
  double lambda = 1.0;           ///< L2 penalty on leaf values, >= 0
  double min_child_weight = 1.0; ///< >= 0
  double subsample = 0.8;        ///< share of the rows each tree sees (drawn with the seed), (0, 1]
  double colsample_bytree = 0.3; ///< share of the features each tree may split on, (0, 1]
  std::uint64_t seed = 0;
  std::size_t threads = 1;       ///< >= 1 (results do not depend on it with the histogram method)
};

/// True when this build can train (libxgboost found at configure time).
bool gradient_boosting_available() noexcept;

/// Fits y (rows) on X (row-major rows x cols, float; NaN = missing) with squared error, the base score being the
/// mean of y. Errors: invalid_argument (sizes, options, non-finite y; an XGBoost call that failed, with its
/// message), unsupported (no XGBoost).
Result<TreeEnsemble> fit_gradient_boosting(std::span<const float> X, std::size_t rows, std::size_t cols,
                                           std::span<const float> y, const GradientBoostingOptions& options = {});

/// A person's trees from a model pooled over people and the person's own data. Defaults: measured on the UCI knee
/// angle under protocol W with every other subject's training part (README, "Continuous knee angle").
struct PersonTreeOptions {
  /// The model over everyone, indicator included: every row and feature each tree (the indicator must be seen).
  GradientBoostingOptions pooled{600, 6, 0.05, 1.0, 1.0, 1.0, 1.0};
  GradientBoostingOptions own;   ///< the person's own trees
  double own_weight = 0.5;   ///< share of the person's own trees in the estimate, [0, 1]
  std::size_t min_own_rows = 20;  ///< fewer rows of the person: the pooled trees alone
};

/// Trees on every row with a one-hot indicator of its subject appended: `subject_of_row` in [0, n_subjects); the
/// result reads cols + n_subjects features. Errors: those of fit_gradient_boosting, invalid_argument (sizes, a
/// subject out of range).
Result<TreeEnsemble> fit_pooled_trees(std::span<const float> X, std::size_t rows, std::size_t cols,
                                      std::span<const float> y, std::span<const int> subject_of_row,
                                      std::size_t n_subjects, const GradientBoostingOptions& options);

/// The person's ensemble on cols features: the pooled trees with the indicator fixed at `person` (-1, a person the
/// pool has not seen: the mean over every subject's indicator, the pool's average person; an all-zero indicator
/// would route each split arbitrarily to one side), and, when `own_rows` >= options.min_own_rows, the person's own trees fitted on
/// (own_X, own_y) mixed in with options.own_weight, as one TreeEnsemble (TreeEnsemble::weighted_sum).
/// Errors: invalid_argument (sizes, person out of range, weight outside [0, 1]), those of the fit.
Result<TreeEnsemble> fit_person_trees(const TreeEnsemble& pooled, std::size_t cols, std::size_t n_subjects, int person,
                                      std::span<const float> own_X, std::size_t own_rows, std::span<const float> own_y,
                                      const PersonTreeOptions& options);

}  // namespace myoexo::models
