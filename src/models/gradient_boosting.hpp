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

}  // namespace myoexo::models
