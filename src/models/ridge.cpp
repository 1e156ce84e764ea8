// Ridge regression: standardise, solve the regularised normal equations, fold the scaling back.
#include "models/ridge.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Dense>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace myoexo::models {

Result<RidgeRegressor> RidgeRegressor::fit(const double* features, std::size_t n_rows, std::size_t n_cols,
                                           std::span<const double> targets, std::vector<std::string> feature_names,
                                           const RidgeOptions& options) {
  if (n_rows < 2 || n_cols == 0)
    return make_error(ErrorCode::invalid_argument, "ridge: needs at least 2 rows and 1 column (got " +
                                                       std::to_string(n_rows) + " x " + std::to_string(n_cols) + ")");
  if (targets.size() != n_rows)
    return make_error(ErrorCode::invalid_argument, "ridge: " + std::to_string(targets.size()) + " targets for " +
                                                       std::to_string(n_rows) + " rows");
  if (!(options.alpha >= 0.0) || !std::isfinite(options.alpha))
    return make_error(ErrorCode::invalid_argument, "ridge: alpha must be finite and >= 0");
  if (!feature_names.empty() && feature_names.size() != n_cols)
    return make_error(ErrorCode::invalid_argument, "ridge: " + std::to_string(feature_names.size()) +
                                                       " feature names for " + std::to_string(n_cols) + " columns");
  using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const Mat> x(features, Eigen::Index(n_rows), Eigen::Index(n_cols));
  const Eigen::Map<const Eigen::VectorXd> y(targets.data(), Eigen::Index(n_rows));
  if (!x.allFinite()) return make_error(ErrorCode::invalid_argument, "ridge: non-finite feature value");
  if (!y.allFinite()) return make_error(ErrorCode::invalid_argument, "ridge: non-finite target value");

  RidgeRegressor m;
  m.options_ = options;
  m.feature_names_ = std::move(feature_names);
  const Eigen::RowVectorXd mean = x.colwise().mean();
  Mat z = x.rowwise() - mean;
  Eigen::RowVectorXd scale = Eigen::RowVectorXd::Ones(Eigen::Index(n_cols));
  if (options.standardize) {
    for (Eigen::Index c = 0; c < z.cols(); ++c) {
      const double sd = std::sqrt(z.col(c).squaredNorm() / double(n_rows));
      // StandardScaler's _handle_zeros_in_scale: a (near-)constant column keeps scale 1.
      if (sd > 10.0 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(mean(c)))) scale(c) = sd;
      z.col(c) /= scale(c);
    }
  }
  const double y_mean = y.mean();
  const Eigen::VectorXd yc = y.array() - y_mean;
  Eigen::MatrixXd gram = z.transpose() * z;
  gram.diagonal().array() += options.alpha;
  const Eigen::VectorXd rhs = z.transpose() * yc;
  Eigen::LDLT<Eigen::MatrixXd> ldlt(gram);
  const Eigen::VectorXd d = ldlt.vectorD();
  // A pivot that vanishes against the largest one: the penalised normal equations have no unique solution.
  const bool singular = d.size() == 0 || d.minCoeff() <= 1e-12 * std::max(d.maxCoeff(), 1e-300);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive() || singular)
    return make_error(ErrorCode::invalid_argument, "ridge: the design is singular (use alpha > 0)");
  const Eigen::VectorXd w = ldlt.solve(rhs);
  if (!w.allFinite()) return make_error(ErrorCode::invalid_argument, "ridge: the design is singular (use alpha > 0)");

  m.mean_.assign(mean.data(), mean.data() + n_cols);
  m.min_.resize(n_cols);
  m.max_.resize(n_cols);
  for (std::size_t c = 0; c < n_cols; ++c) {
    m.min_[c] = x.col(Eigen::Index(c)).minCoeff();
    m.max_[c] = x.col(Eigen::Index(c)).maxCoeff();
  }
  m.scale_.assign(scale.data(), scale.data() + n_cols);
  m.coef_.resize(n_cols);
  double icpt = y_mean;
  for (std::size_t c = 0; c < n_cols; ++c) {
    m.coef_[c] = w(Eigen::Index(c)) / m.scale_[c];
    icpt -= m.coef_[c] * m.mean_[c];
  }
  m.intercept_ = icpt;
  return m;
}

double RidgeRegressor::predict_one(std::span<const double> row) const noexcept {
  if (row.size() != coef_.size()) return std::numeric_limits<double>::quiet_NaN();
  double acc = intercept_;
  const bool clip = options_.clip_to_training_range;
  for (std::size_t c = 0; c < row.size(); ++c) {
    if (!std::isfinite(row[c])) return std::numeric_limits<double>::quiet_NaN();
    acc += coef_[c] * (clip ? std::clamp(row[c], min_[c], max_[c]) : row[c]);
  }
  return acc;
}

Status RidgeRegressor::predict(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* out) const noexcept {
  if (coef_.empty()) return make_error(ErrorCode::invalid_argument, "ridge: model not fitted");
  if (n_cols != coef_.size())
    return make_error(ErrorCode::invalid_argument, "ridge: rows have " + std::to_string(n_cols) + " values, the model " +
                                                       std::to_string(coef_.size()));
  std::size_t bad = 0;
  for (std::size_t r = 0; r < n_rows; ++r) {
    out[r] = predict_one({inputs + r * n_cols, n_cols});
    if (!std::isfinite(out[r])) ++bad;
  }
  if (bad > 0)
    return make_error(ErrorCode::invalid_argument, "ridge: " + std::to_string(bad) + " rows with non-finite input");
  return {};
}

std::string RidgeRegressor::to_json() const {
  nlohmann::json j;
  j["model"] = "ridge";
  j["version"] = 1;
  j["alpha"] = options_.alpha;
  j["standardize"] = options_.standardize;
  j["clip_to_training_range"] = options_.clip_to_training_range;
  j["feature_names"] = feature_names_;
  j["mean"] = mean_;
  j["scale"] = scale_;
  j["min"] = min_;
  j["max"] = max_;
  j["coef"] = coef_;
  j["intercept"] = intercept_;
  return j.dump(1);
}

Result<RidgeRegressor> RidgeRegressor::from_json(std::string_view text, const std::string& display_name) {
  using nlohmann::json;
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::parse, display_name, 0, "not valid JSON");
  try {
    if (j.value("model", std::string()) != "ridge")
      return make_error(ErrorCode::mismatch, display_name, 0, "not a ridge model (\"model\" is not \"ridge\")");
    if (j.value("version", 0) != 1) return make_error(ErrorCode::unsupported, display_name, 0, "unsupported ridge model version");
    RidgeRegressor m;
    m.options_.alpha = j.at("alpha").get<double>();
    m.options_.standardize = j.at("standardize").get<bool>();
    m.feature_names_ = j.at("feature_names").get<std::vector<std::string>>();
    m.mean_ = j.at("mean").get<std::vector<double>>();
    m.scale_ = j.at("scale").get<std::vector<double>>();
    m.options_.clip_to_training_range = j.value("clip_to_training_range", false);
    m.min_ = j.at("min").get<std::vector<double>>();
    m.max_ = j.at("max").get<std::vector<double>>();
    m.coef_ = j.at("coef").get<std::vector<double>>();
    m.intercept_ = j.at("intercept").get<double>();
    const std::size_t p = m.coef_.size();
    if (p == 0 || m.mean_.size() != p || m.scale_.size() != p || m.min_.size() != p || m.max_.size() != p ||
        (!m.feature_names_.empty() && m.feature_names_.size() != p))
      return make_error(ErrorCode::parse, display_name, 0, "ridge model: coef/mean/scale/min/max/feature_names sizes disagree");
    for (std::size_t c = 0; c < p; ++c)
      if (!(m.min_[c] <= m.max_[c]))
        return make_error(ErrorCode::parse, display_name, 0, "ridge model: min > max in column " + std::to_string(c));
    for (double v : m.coef_)
      if (!std::isfinite(v)) return make_error(ErrorCode::parse, display_name, 0, "ridge model: non-finite coefficient");
    if (!std::isfinite(m.intercept_)) return make_error(ErrorCode::parse, display_name, 0, "ridge model: non-finite intercept");
    return m;
  } catch (const json::exception& e) {
    return make_error(ErrorCode::parse, display_name, 0, std::string("ridge model: ") + e.what());
  }
}

}  // namespace myoexo::models
