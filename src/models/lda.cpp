// LDA fit mirrors scikit-learn 1.2 `discriminant_analysis.py` step by step (same order of operations where
// it matters for rounding): _solve_svd, _solve_lstsq, _solve_eigen, _cov with Ledoit-Wolf.
#include "models/lda.hpp"

// GCC 12 with -march=native (AVX-512) reports a false -Wmaybe-uninitialized inside Eigen's GEMM packing;
// silence it for Eigen's headers only.
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
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

namespace myoexo::models {

namespace {

using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXd;

/// Empirical covariance (bias=1: divides by n), as sklearn.covariance.empirical_covariance.
Eigen::MatrixXd empirical_cov(const Mat& x) {
  const Eigen::RowVectorXd mean = x.colwise().mean();
  const Mat xc = x.rowwise() - mean;
  return (xc.transpose() * xc) / static_cast<double>(x.rows());
}

/// sklearn.covariance.ledoit_wolf_shrinkage on (already standardised) x, block computation collapsed
/// (p < 1000 gives a single block in sklearn too).
double ledoit_wolf_shrinkage(const Mat& x_in) {
  if (x_in.cols() == 1) return 0.0;
  const double n = static_cast<double>(x_in.rows());
  const double p = static_cast<double>(x_in.cols());
  const Mat x = x_in.rowwise() - x_in.colwise().mean();
  const Mat x2 = x.array().square().matrix();
  const Eigen::RowVectorXd emp_cov_trace = x2.colwise().sum() / n;
  const double mu = emp_cov_trace.sum() / p;
  double beta_ = (x2.transpose() * x2).sum();
  double delta_ = (x.transpose() * x).array().square().sum();
  delta_ /= n * n;
  double beta = 1.0 / (p * n) * (beta_ / n - delta_);
  double delta = delta_ - 2.0 * mu * emp_cov_trace.sum() + p * mu * mu;
  delta /= p;
  beta = std::min(beta, delta);
  return beta == 0.0 ? 0.0 : beta / delta;
}

Eigen::MatrixXd shrunk(const Eigen::MatrixXd& cov, double s) {
  const double p = static_cast<double>(cov.rows());
  const double mu = cov.trace() / p;
  Eigen::MatrixXd out = (1.0 - s) * cov;
  out.diagonal().array() += s * mu;
  return out;
}

/// sklearn discriminant_analysis._cov.
Eigen::MatrixXd shrunk_cov(const Mat& x, const LdaOptions& o) {
  switch (o.shrinkage) {
    case LdaShrinkage::none:
      return empirical_cov(x);
    case LdaShrinkage::fixed:
      return shrunk(empirical_cov(x), o.shrinkage_value);
    case LdaShrinkage::ledoit_wolf: {
      // StandardScaler: ddof-0 std, zero scale -> 1.
      const Eigen::RowVectorXd mean = x.colwise().mean();
      const Mat xc = x.rowwise() - mean;
      Eigen::RowVectorXd scale = (xc.array().square().colwise().sum() / double(x.rows())).sqrt();
      for (Eigen::Index j = 0; j < scale.size(); ++j)
        if (scale[j] == 0.0) scale[j] = 1.0;
      const Mat xs = xc.array().rowwise() / scale.array();
      const double s = ledoit_wolf_shrinkage(xs);
      Eigen::MatrixXd c = shrunk(empirical_cov(xs), s);
      return scale.transpose().asDiagonal() * c * scale.asDiagonal();
    }
  }
  return empirical_cov(x);
}

bool all_finite(const double* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

}  // namespace

const char* lda_solver_name(LdaSolver s) noexcept {
  switch (s) {
    case LdaSolver::svd: return "svd";
    case LdaSolver::lsqr: return "lsqr";
    case LdaSolver::eigen: return "eigen";
  }
  return "?";
}

const char* lda_shrinkage_name(LdaShrinkage s) noexcept {
  switch (s) {
    case LdaShrinkage::none: return "none";
    case LdaShrinkage::ledoit_wolf: return "auto";
    case LdaShrinkage::fixed: return "fixed";
  }
  return "?";
}

Result<LdaClassifier> LdaClassifier::fit(const double* features, std::size_t n_rows, std::size_t n_cols,
                                         std::span<const int> labels, std::vector<std::string> class_names,
                                         std::vector<std::string> feature_names, const LdaOptions& options) {
  const std::size_t n_classes_total = class_names.size();
  if (n_cols == 0) return make_error(ErrorCode::invalid_argument, "LDA fit: zero feature columns");
  if (n_rows == 0 || features == nullptr) return make_error(ErrorCode::empty, "LDA fit: no training rows");
  if (labels.size() != n_rows)
    return make_error(ErrorCode::invalid_argument, "LDA fit: " + std::to_string(labels.size()) + " labels for " +
                                                       std::to_string(n_rows) + " rows");
  if (n_classes_total == 0) return make_error(ErrorCode::invalid_argument, "LDA fit: no class names");
  if (!feature_names.empty() && feature_names.size() != n_cols)
    return make_error(ErrorCode::invalid_argument, "LDA fit: " + std::to_string(feature_names.size()) +
                                                       " feature names for " + std::to_string(n_cols) + " columns");
  if (options.solver == LdaSolver::svd && options.shrinkage != LdaShrinkage::none)
    return make_error(ErrorCode::invalid_argument, "LDA fit: shrinkage is not supported with the svd solver");
  if (options.shrinkage == LdaShrinkage::fixed &&
      !(options.shrinkage_value >= 0.0 && options.shrinkage_value <= 1.0))
    return make_error(ErrorCode::invalid_argument, "LDA fit: shrinkage value must be in [0, 1]");
  if (!(options.tol >= 0.0)) return make_error(ErrorCode::invalid_argument, "LDA fit: tol must be >= 0");
  if (!options.priors.empty() && options.priors.size() != n_classes_total)
    return make_error(ErrorCode::invalid_argument, "LDA fit: priors must have one value per class");
  if (!all_finite(features, n_rows * n_cols))
    return make_error(ErrorCode::invalid_argument, "LDA fit: non-finite feature value");

  // Trained classes (sorted ids, as sklearn's unique_labels) and their counts.
  std::vector<std::size_t> counts(n_classes_total, 0);
  for (int y : labels) {
    if (y < 0 || static_cast<std::size_t>(y) >= n_classes_total)
      return make_error(ErrorCode::invalid_argument, "LDA fit: label " + std::to_string(y) + " outside [0, " +
                                                         std::to_string(n_classes_total) + ")");
    ++counts[static_cast<std::size_t>(y)];
  }
  std::vector<int> present;           // present[k] = class id
  std::vector<int> local(n_classes_total, -1);
  for (std::size_t c = 0; c < n_classes_total; ++c)
    if (counts[c] > 0) {
      local[c] = static_cast<int>(present.size());
      present.push_back(static_cast<int>(c));
    }
  const Eigen::Index K = static_cast<Eigen::Index>(present.size());
  const Eigen::Index n = static_cast<Eigen::Index>(n_rows);
  const Eigen::Index p = static_cast<Eigen::Index>(n_cols);
  if (n <= K)
    return make_error(ErrorCode::invalid_argument, "LDA fit: the number of rows must exceed the number of classes");

  Vec priors(K);
  if (options.priors.empty()) {
    for (Eigen::Index k = 0; k < K; ++k) priors[k] = double(counts[std::size_t(present[std::size_t(k)])]) / double(n);
  } else {
    double sum = 0.0;
    for (Eigen::Index k = 0; k < K; ++k) {
      priors[k] = options.priors[std::size_t(present[std::size_t(k)])];
      if (!(priors[k] >= 0.0)) return make_error(ErrorCode::invalid_argument, "LDA fit: priors must be >= 0");
      sum += priors[k];
    }
    if (!(sum > 0.0)) return make_error(ErrorCode::invalid_argument, "LDA fit: priors of trained classes sum to 0");
    if (std::abs(sum - 1.0) > 1e-5) priors /= sum;  // sklearn renormalises (with a warning) only then
  }

  const Eigen::Map<const Mat> X(features, n, p);
  std::vector<int> y(n_rows);
  for (std::size_t i = 0; i < n_rows; ++i) y[i] = local[std::size_t(labels[i])];

  // Class means (sklearn: np.add.at then divide).
  Mat means = Mat::Zero(K, p);
  for (Eigen::Index i = 0; i < n; ++i) means.row(y[std::size_t(i)]) += X.row(i);
  for (Eigen::Index k = 0; k < K; ++k) means.row(k) /= double(counts[std::size_t(present[std::size_t(k)])]);

  Mat coef(K, p);
  Vec intercept(K);
  Eigen::MatrixXd within;  // the pooled within-class covariance, kept for adapt()

  auto class_rows = [&](Eigen::Index k) {
    Mat xg(static_cast<Eigen::Index>(counts[std::size_t(present[std::size_t(k)])]), p);
    Eigen::Index r = 0;
    for (Eigen::Index i = 0; i < n; ++i)
      if (y[std::size_t(i)] == k) xg.row(r++) = X.row(i);
    return xg;
  };
  auto class_cov = [&]() {
    Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(p, p);
    for (Eigen::Index k = 0; k < K; ++k) cov += priors[k] * shrunk_cov(class_rows(k), options);
    return cov;
  };

  if (options.solver == LdaSolver::svd) {
    // Within-class centred data, grouped by class in class order (as sklearn's concat).
    Mat xc(n, p);
    {
      Eigen::Index r = 0;
      for (Eigen::Index k = 0; k < K; ++k)
        for (Eigen::Index i = 0; i < n; ++i)
          if (y[std::size_t(i)] == k) xc.row(r++) = X.row(i) - means.row(k);
    }
    const Eigen::RowVectorXd xbar = priors.transpose() * means;
    const Eigen::RowVectorXd cmean = xc.colwise().mean();
    Eigen::RowVectorXd std_dev = ((xc.rowwise() - cmean).array().square().colwise().sum() / double(n)).sqrt();
    for (Eigen::Index j = 0; j < p; ++j)
      if (std_dev[j] == 0.0) std_dev[j] = 1.0;
    const double fac = 1.0 / double(n - K);
    Mat xs = std::sqrt(fac) * (xc.array().rowwise() / std_dev.array()).matrix();
    // Singular values and right vectors of xs: via QR first (n >> p), same S and V as the direct SVD.
    Eigen::MatrixXd v;
    Vec s;
    if (n > p) {
      Eigen::HouseholderQR<Mat> qr(xs);
      Eigen::MatrixXd r = qr.matrixQR().topRows(p).triangularView<Eigen::Upper>();
      Eigen::JacobiSVD<Eigen::MatrixXd> svd(r, Eigen::ComputeFullV);
      v = svd.matrixV();
      s = svd.singularValues();
    } else {
      Eigen::JacobiSVD<Eigen::MatrixXd> svd(Eigen::MatrixXd(xs), Eigen::ComputeThinV);
      v = svd.matrixV();
      s = svd.singularValues();
    }
    Eigen::Index rank = 0;
    for (Eigen::Index i = 0; i < s.size(); ++i)
      if (s[i] > options.tol) ++rank;
    // scalings = (Vt[:rank] / std).T / S[:rank]  -> [p x rank]
    Eigen::MatrixXd scalings(p, rank);
    for (Eigen::Index j = 0; j < rank; ++j)
      for (Eigen::Index i = 0; i < p; ++i) scalings(i, j) = v(i, j) / std_dev[i] / s[j];
    const double fac2 = K == 1 ? 1.0 : 1.0 / double(K - 1);
    Eigen::MatrixXd centers(K, p);
    for (Eigen::Index k = 0; k < K; ++k)
      centers.row(k) = std::sqrt(double(n) * priors[k] * fac2) * (means.row(k) - xbar);
    Eigen::MatrixXd xb = centers * scalings;  // [K x rank]
    Eigen::MatrixXd scalings2(p, 0);
    if (rank > 0) {
      Eigen::JacobiSVD<Eigen::MatrixXd> svd2(xb, Eigen::ComputeThinV);
      const Vec s2 = svd2.singularValues();
      Eigen::Index rank2 = 0;
      for (Eigen::Index i = 0; i < s2.size(); ++i)
        if (s2[i] > options.tol * s2[0]) ++rank2;
      scalings2 = scalings * svd2.matrixV().leftCols(rank2);
    }
    const Eigen::MatrixXd c = (means.rowwise() - xbar) * scalings2;  // [K x rank2]
    for (Eigen::Index k = 0; k < K; ++k) intercept[k] = -0.5 * c.row(k).squaredNorm() + std::log(priors[k]);
    coef = c * scalings2.transpose();
    intercept -= coef * xbar.transpose();
    // The covariance the svd solver whitens with: the pooled within-class scatter over n - K (not the
    // prior-weighted class covariances of lsqr/eigen).
    within = (xc.transpose() * xc) / double(n - K);
  } else if (options.solver == LdaSolver::lsqr) {
    const Eigen::MatrixXd cov = class_cov();
    within = cov;
    // Minimum-norm least squares like scipy.linalg.lstsq (gelsd).
    Eigen::BDCSVD<Eigen::MatrixXd> svd(cov, Eigen::ComputeThinU | Eigen::ComputeThinV);
    coef = svd.solve(Eigen::MatrixXd(means.transpose())).transpose();
    for (Eigen::Index k = 0; k < K; ++k) intercept[k] = -0.5 * means.row(k).dot(coef.row(k)) + std::log(priors[k]);
  } else {
    const Eigen::MatrixXd sw = class_cov();
    within = sw;
    const Eigen::MatrixXd st = shrunk_cov(Mat(X), options);
    const Eigen::MatrixXd sb = st - sw;
    Eigen::GeneralizedSelfAdjointEigenSolver<Eigen::MatrixXd> ges(sb, sw, Eigen::ComputeEigenvectors | Eigen::ABx_lx);
    if (ges.info() != Eigen::Success)
      return make_error(ErrorCode::invalid_argument,
                        "LDA fit: within-class covariance is not positive definite (use shrinkage or svd)");
    const Eigen::MatrixXd evecs = ges.eigenvectors();  // B-normalised, like scipy.linalg.eigh(a, b)
    coef = (means * evecs) * evecs.transpose();
    for (Eigen::Index k = 0; k < K; ++k) intercept[k] = -0.5 * means.row(k).dot(coef.row(k)) + std::log(priors[k]);
  }

  LdaClassifier m;
  m.options_ = options;
  m.n_features_ = n_cols;
  m.class_names_ = std::move(class_names);
  m.feature_names_ = std::move(feature_names);
  m.trained_.assign(n_classes_total, false);
  m.priors_.assign(n_classes_total, 0.0);
  m.means_.assign(n_classes_total * n_cols, 0.0);
  m.coef_.assign(n_classes_total * n_cols, 0.0);
  m.intercept_.assign(n_classes_total, -std::numeric_limits<double>::infinity());
  for (Eigen::Index k = 0; k < K; ++k) {
    const std::size_t c = std::size_t(present[std::size_t(k)]);
    m.trained_[c] = true;
    m.priors_[c] = priors[k];
    m.intercept_[c] = intercept[k];
    for (std::size_t j = 0; j < n_cols; ++j) {
      m.means_[c * n_cols + j] = means(k, Eigen::Index(j));
      m.coef_[c * n_cols + j] = coef(k, Eigen::Index(j));
    }
  }
  if (!all_finite(m.coef_.data(), m.coef_.size()))
    return make_error(ErrorCode::invalid_argument, "LDA fit: non-finite coefficients (degenerate data)");
  m.covariance_.assign(within.data(), within.data() + within.size());  // symmetric: storage order does not matter
  return m;
}

Result<LdaClassifier> LdaClassifier::adapt(const double* features, std::size_t n_rows, std::size_t n_cols,
                                           std::span<const int> labels, double prior_windows) const {
  const std::size_t k_total = class_names_.size(), pn = n_features_;
  if (covariance_.size() != pn * pn)
    return make_error(ErrorCode::unsupported, "LDA adapt: the model does not carry its within-class covariance "
                                              "(a file written before it was stored): train the base again");
  if (n_cols != pn)
    return make_error(ErrorCode::invalid_argument, "LDA adapt: " + std::to_string(n_cols) + " feature columns, the "
                                                       "model has " + std::to_string(pn));
  if (n_rows == 0 || features == nullptr) return make_error(ErrorCode::empty, "LDA adapt: no windows of the person");
  if (labels.size() != n_rows) return make_error(ErrorCode::invalid_argument, "LDA adapt: one label per row");
  if (!(prior_windows >= 0.0) || !std::isfinite(prior_windows))
    return make_error(ErrorCode::invalid_argument, "LDA adapt: the base's weight in windows must be >= 0");
  if (!all_finite(features, n_rows * n_cols))
    return make_error(ErrorCode::invalid_argument, "LDA adapt: non-finite feature value");
  std::vector<std::size_t> counts(k_total, 0);
  for (int y : labels) {
    if (y < 0 || std::size_t(y) >= k_total)
      return make_error(ErrorCode::invalid_argument, "LDA adapt: label " + std::to_string(y) + " outside [0, " +
                                                         std::to_string(k_total) + ")");
    if (!trained_[std::size_t(y)])
      return make_error(ErrorCode::invalid_argument, "LDA adapt: class '" + class_names_[std::size_t(y)] +
                                                         "' was not in the base model's training data (refit instead)");
    ++counts[std::size_t(y)];
  }
  const Eigen::Index p = Eigen::Index(pn);
  const Eigen::Map<const Mat> X(features, Eigen::Index(n_rows), p);
  const double n_total = double(n_rows);

  // The person's class means and pooled covariance (class covariances weighted by the person's frequencies).
  LdaOptions person_options;
  person_options.solver = LdaSolver::lsqr;
  person_options.shrinkage = LdaShrinkage::ledoit_wolf;
  Mat person_means = Mat::Zero(Eigen::Index(k_total), p);
  Eigen::MatrixXd person_cov = Eigen::MatrixXd::Zero(p, p);
  for (std::size_t k = 0; k < k_total; ++k) {
    if (counts[k] == 0) continue;
    Mat xk(Eigen::Index(counts[k]), p);
    Eigen::Index r = 0;
    for (std::size_t i = 0; i < n_rows; ++i)
      if (std::size_t(labels[i]) == k) xk.row(r++) = X.row(Eigen::Index(i));
    person_means.row(Eigen::Index(k)) = xk.colwise().mean();
    person_cov += (double(counts[k]) / n_total) * shrunk_cov(xk, person_options);
  }
  const Eigen::Map<const Eigen::MatrixXd> base_cov(covariance_.data(), p, p);
  const double lambda = n_total / (n_total + prior_windows);
  const Eigen::MatrixXd cov = (1.0 - lambda) * base_cov + lambda * person_cov;

  LdaClassifier m = *this;
  m.options_.solver = LdaSolver::lsqr;
  m.options_.shrinkage = LdaShrinkage::ledoit_wolf;
  std::vector<std::size_t> trained_ids;
  for (std::size_t k = 0; k < k_total; ++k)
    if (trained_[k]) trained_ids.push_back(k);
  Mat means(Eigen::Index(trained_ids.size()), p);
  for (std::size_t t = 0; t < trained_ids.size(); ++t) {
    const std::size_t k = trained_ids[t];
    const double lk = double(counts[k]) / (double(counts[k]) + prior_windows);
    for (Eigen::Index j = 0; j < p; ++j)
      means(Eigen::Index(t), j) = (1.0 - lk) * means_[k * pn + std::size_t(j)] + lk * person_means(Eigen::Index(k), j);
  }
  // The same least-squares solve as fit(lsqr).
  Eigen::BDCSVD<Eigen::MatrixXd> svd(cov, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::MatrixXd coef = svd.solve(Eigen::MatrixXd(means.transpose())).transpose();
  for (std::size_t t = 0; t < trained_ids.size(); ++t) {
    const std::size_t k = trained_ids[t];
    m.intercept_[k] = -0.5 * means.row(Eigen::Index(t)).dot(coef.row(Eigen::Index(t))) + std::log(priors_[k]);
    for (std::size_t j = 0; j < pn; ++j) {
      m.means_[k * pn + j] = means(Eigen::Index(t), Eigen::Index(j));
      m.coef_[k * pn + j] = coef(Eigen::Index(t), Eigen::Index(j));
    }
  }
  if (!all_finite(m.coef_.data(), m.coef_.size()))
    return make_error(ErrorCode::invalid_argument, "LDA adapt: non-finite coefficients (degenerate data)");
  m.covariance_.assign(cov.data(), cov.data() + cov.size());
  return m;
}

Status LdaClassifier::reserve(std::size_t /*max_rows*/) { return {}; }

Status LdaClassifier::decision_function(const double* inputs, std::size_t n_rows, std::size_t n_cols,
                                        double* out) const {
  if (n_features_ == 0) return make_error(ErrorCode::invalid_argument, "LDA: model is not fitted");
  if (n_cols != n_features_)
    return make_error(ErrorCode::mismatch, "LDA: rows have " + std::to_string(n_cols) + " values, the model expects " +
                                               std::to_string(n_features_));
  const std::size_t k_total = class_names_.size();
  const std::size_t p = n_features_;
  for (std::size_t r = 0; r < n_rows; ++r) {
    const double* x = inputs + r * p;
    double* d = out + r * k_total;
    for (std::size_t k = 0; k < k_total; ++k) {
      const double* w = coef_.data() + k * p;
      double acc = 0.0;
      for (std::size_t j = 0; j < p; ++j) acc += w[j] * x[j];
      d[k] = acc + intercept_[k];
    }
  }
  return {};
}

Status LdaClassifier::predict_proba(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* out) {
  Status s = decision_function(inputs, n_rows, n_cols, out);
  if (!s) return s;
  const std::size_t k_total = class_names_.size();
  for (std::size_t r = 0; r < n_rows; ++r) {
    double* d = out + r * k_total;
    double mx = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < k_total; ++k) mx = std::max(mx, d[k]);
    if (!std::isfinite(mx))  // a NaN/Inf input: refuse rather than emit garbage probabilities
      return make_error(ErrorCode::invalid_argument, "LDA: non-finite input in row " + std::to_string(r));
    double sum = 0.0;
    for (std::size_t k = 0; k < k_total; ++k) {
      d[k] = std::exp(d[k] - mx);
      sum += d[k];
    }
    if (!std::isfinite(sum)) return make_error(ErrorCode::invalid_argument, "LDA: non-finite input in row " + std::to_string(r));
    for (std::size_t k = 0; k < k_total; ++k) d[k] /= sum;
  }
  return {};
}

// ---- JSON -------------------------------------------------------------------------------------------------

std::string LdaClassifier::to_json() const {
  using nlohmann::json;
  const std::size_t k_total = class_names_.size();
  json j;
  j["model"] = "lda";
  j["version"] = 1;
  j["solver"] = lda_solver_name(options_.solver);
  j["shrinkage"] = lda_shrinkage_name(options_.shrinkage);
  j["shrinkage_value"] = options_.shrinkage_value;
  j["tol"] = options_.tol;
  j["class_names"] = class_names_;
  j["feature_names"] = feature_names_;
  j["n_inputs"] = n_features_;
  j["trained"] = trained_;
  j["priors"] = priors_;
  json means = json::array(), coef = json::array(), icpt = json::array();
  for (std::size_t k = 0; k < k_total; ++k) {
    means.push_back(std::vector<double>(means_.begin() + std::ptrdiff_t(k * n_features_),
                                        means_.begin() + std::ptrdiff_t((k + 1) * n_features_)));
    coef.push_back(std::vector<double>(coef_.begin() + std::ptrdiff_t(k * n_features_),
                                       coef_.begin() + std::ptrdiff_t((k + 1) * n_features_)));
    // -inf (untrained class) is not JSON: null.
    if (trained_[k]) icpt.push_back(intercept_[k]);
    else icpt.push_back(nullptr);
  }
  j["means"] = std::move(means);
  j["coef"] = std::move(coef);
  j["intercept"] = std::move(icpt);
  if (!covariance_.empty()) j["covariance"] = covariance_;  // [n_inputs x n_inputs], symmetric, row-major
  return j.dump(1);
}

Result<LdaClassifier> LdaClassifier::from_json(std::string_view text, const std::string& display_name) {
  using nlohmann::json;
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::parse, display_name, 0, "not valid JSON");
  try {
    if (j.value("model", std::string()) != "lda")
      return make_error(ErrorCode::mismatch, display_name, 0, "not an LDA model file (\"model\" is not \"lda\")");
    if (j.value("version", 0) != 1)
      return make_error(ErrorCode::unsupported, display_name, 0, "unsupported LDA model version");
    LdaClassifier m;
    const std::string solver = j.at("solver").get<std::string>();
    if (solver == "svd") m.options_.solver = LdaSolver::svd;
    else if (solver == "lsqr") m.options_.solver = LdaSolver::lsqr;
    else if (solver == "eigen") m.options_.solver = LdaSolver::eigen;
    else return make_error(ErrorCode::parse, display_name, 0, "unknown solver '" + solver + "'");
    const std::string shr = j.at("shrinkage").get<std::string>();
    if (shr == "none") m.options_.shrinkage = LdaShrinkage::none;
    else if (shr == "auto") m.options_.shrinkage = LdaShrinkage::ledoit_wolf;
    else if (shr == "fixed") m.options_.shrinkage = LdaShrinkage::fixed;
    else return make_error(ErrorCode::parse, display_name, 0, "unknown shrinkage '" + shr + "'");
    m.options_.shrinkage_value = j.value("shrinkage_value", 0.0);
    m.options_.tol = j.value("tol", 1e-4);
    m.class_names_ = j.at("class_names").get<std::vector<std::string>>();
    m.feature_names_ = j.at("feature_names").get<std::vector<std::string>>();
    m.n_features_ = j.at("n_inputs").get<std::size_t>();
    m.trained_ = j.at("trained").get<std::vector<bool>>();
    m.priors_ = j.at("priors").get<std::vector<double>>();
    const std::size_t k_total = m.class_names_.size(), p = m.n_features_;
    if (k_total == 0 || p == 0)
      return make_error(ErrorCode::parse, display_name, 0, "LDA model without classes or inputs");
    if (!j.at("n_inputs").is_number_unsigned() || p > (std::size_t{1} << 20))
      return make_error(ErrorCode::parse, display_name, 0,
                        "LDA model: n_inputs must be an integer in [1, 2^20], got " + j.at("n_inputs").dump());
    if (m.trained_.size() != k_total || m.priors_.size() != k_total ||
        (!m.feature_names_.empty() && m.feature_names_.size() != p))
      return make_error(ErrorCode::parse, display_name, 0, "LDA model: array sizes disagree with class_names/n_inputs");
    const json& means = j.at("means");
    const json& coef = j.at("coef");
    const json& icpt = j.at("intercept");
    if (means.size() != k_total || coef.size() != k_total || icpt.size() != k_total)
      return make_error(ErrorCode::parse, display_name, 0, "LDA model: means/coef/intercept need one row per class");
    for (std::size_t k = 0; k < k_total; ++k) {
      auto mr = means[k].get<std::vector<double>>();
      auto cr = coef[k].get<std::vector<double>>();
      if (mr.size() != p || cr.size() != p)
        return make_error(ErrorCode::parse, display_name, 0, "LDA model: row " + std::to_string(k) + " is not n_inputs long");
      m.means_.insert(m.means_.end(), mr.begin(), mr.end());
      m.coef_.insert(m.coef_.end(), cr.begin(), cr.end());
      if (m.trained_[k]) {
        if (!icpt[k].is_number())
          return make_error(ErrorCode::parse, display_name, 0, "LDA model: trained class without intercept");
        m.intercept_.push_back(icpt[k].get<double>());
      } else {
        m.intercept_.push_back(-std::numeric_limits<double>::infinity());
      }
    }
    if (!all_finite(m.coef_.data(), m.coef_.size()))
      return make_error(ErrorCode::parse, display_name, 0, "LDA model: non-finite coefficient");
    if (std::none_of(m.trained_.begin(), m.trained_.end(), [](bool b) { return b; }))
      return make_error(ErrorCode::parse, display_name, 0, "LDA model: no trained class");
    if (j.contains("covariance")) {
      m.covariance_ = j.at("covariance").get<std::vector<double>>();
      if (m.covariance_.size() != p * p || !all_finite(m.covariance_.data(), m.covariance_.size()))
        return make_error(ErrorCode::parse, display_name, 0, "LDA model: covariance is not n_inputs x n_inputs finite "
                                                             "values");
    }
    return m;
  } catch (const json::exception& e) {
    return make_error(ErrorCode::parse, display_name, 0, std::string("LDA model: ") + e.what());
  }
}

Status LdaClassifier::save(const std::filesystem::path& path) const {
  std::ofstream out(path);
  if (!out) return make_error(ErrorCode::io, path.string(), 0, "cannot open for writing");
  out << to_json() << '\n';
  if (!out) return make_error(ErrorCode::io, path.string(), 0, "write failed");
  return {};
}

Result<LdaClassifier> LdaClassifier::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::io, path.string(), 0, "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), path.string());
}

}  // namespace myoexo::models
