// myoexo::models — ridge regression on feature rows (Eigen): one continuous output per row (the knee angle).
//
// Equal to scikit-learn's `make_pipeline(StandardScaler(), Ridge(alpha))`: every column is standardised with
// the training mean and population standard deviation (a constant column keeps scale 1, as StandardScaler),
// the target is centred, and (Z'Z + alpha I) w = Z'(y - mean y) is solved by Cholesky (LDLT). The stored
// coefficients are folded back into the input's scale, so predict() is one dot product per row. Tests compare
// coefficients and predictions with scikit-learn fixtures (scripts/fixtures_models.py) to 1e-9 relative.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "models/angle_regressor.hpp"

namespace myoexo::models {

struct RidgeOptions {
  double alpha = 1.0;        ///< L2 penalty on the standardised coefficients, >= 0
  bool standardize = true;   ///< scale columns to unit variance before the penalty (false: centre only)
  /// Clip each input to the range that column had in training before predicting: a linear model extrapolates
  /// without bound, and a feature far outside what it saw (the log amplitude of a flat, disconnected channel)
  /// would otherwise give an estimate of hundreds of degrees. Off = scikit-learn's predict.
  bool clip_to_training_range = false;
};

class RidgeRegressor final : public AngleRegressor {
 public:
  RidgeRegressor() = default;

  /// Fits on `features` [n_rows x n_cols] row-major and `targets` (size n_rows). Needs n_rows >= 2, n_cols >= 1,
  /// finite values, alpha >= 0 (alpha 0 needs a full-rank design). Errors: invalid_argument.
  static Result<RidgeRegressor> fit(const double* features, std::size_t n_rows, std::size_t n_cols,
                                    std::span<const double> targets, std::vector<std::string> feature_names = {},
                                    const RidgeOptions& options = {});

  const std::vector<std::string>& input_names() const noexcept { return feature_names_; }
  const RidgeOptions& options() const noexcept { return options_; }
  /// Coefficients in the input's scale and the intercept: estimate = coef . x + intercept.
  const std::vector<double>& coef() const noexcept { return coef_; }
  double intercept() const noexcept { return intercept_; }
  /// Training column means and scales (the standardisation folded into coef()).
  const std::vector<double>& feature_mean() const noexcept { return mean_; }
  const std::vector<double>& feature_scale() const noexcept { return scale_; }
  /// Training column minima and maxima (the clipping range).
  const std::vector<double>& feature_min() const noexcept { return min_; }
  const std::vector<double>& feature_max() const noexcept { return max_; }

  /// One estimate per row; allocation-free. A row with a non-finite value gives NaN for that row (the caller's
  /// plausibility checks see it) and the status says how many; bad shapes are invalid_argument.
  Status predict(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* out) const noexcept;
  /// One row; NaN when the row holds a non-finite value or has the wrong length.
  double predict_one(std::span<const double> row) const noexcept;

  // ---- AngleRegressor: on the classifier's feature row ----
  InputKind input_kind() const noexcept override { return InputKind::features; }
  std::size_t n_inputs() const noexcept override { return coef_.size(); }
  std::string kind_name() const override { return "ridge"; }
  double estimate(std::span<const double> row) noexcept override { return predict_one(row); }
  std::unique_ptr<AngleRegressor> clone() const override { return std::make_unique<RidgeRegressor>(*this); }

  /// JSON text: {"model":"ridge","version":1,"alpha","standardize","clip_to_training_range","feature_names",
  /// "mean","scale","min","max","coef","intercept"}; doubles round-trip exactly.
  std::string to_json() const;
  static Result<RidgeRegressor> from_json(std::string_view text, const std::string& display_name = "<json>");

 private:
  RidgeOptions options_;
  std::vector<std::string> feature_names_;
  std::vector<double> mean_, scale_, min_, max_, coef_;
  double intercept_ = 0.0;
};

}  // namespace myoexo::models
