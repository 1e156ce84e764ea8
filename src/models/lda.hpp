// myoexo::models — Linear Discriminant Analysis on feature rows (Eigen), equivalent to scikit-learn's
// `LinearDiscriminantAnalysis` (1.2): same solvers, same shrinkage, same probabilities.
//
// Solvers (sklearn names): `svd` (default; no covariance matrix, robust when features are collinear),
// `lsqr` and `eigen` (both accept shrinkage: none, Ledoit-Wolf 'auto' on standardised features, or a fixed
// value in [0, 1]). Priors default to the training class frequencies. Tests compare coef/intercept/means and
// predict_proba with scikit-learn fixtures (scripts/fixtures_models.py) to 1e-9 relative.
//
// Classes absent from the training labels (e.g. a subject with only gait recordings) get probability 0;
// a model trained on a single class always predicts it with probability 1 (scikit-learn's behaviour).
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "models/classifier.hpp"

namespace myoexo::models {

enum class LdaSolver { svd, lsqr, eigen };
enum class LdaShrinkage {
  none,         ///< empirical covariance
  ledoit_wolf,  ///< scikit-learn's shrinkage='auto' (Ledoit-Wolf on standardised features)
  fixed,        ///< (1 - s) * cov + s * trace(cov) / p * I with s = LdaOptions::shrinkage_value
};

const char* lda_solver_name(LdaSolver s) noexcept;          ///< "svd", "lsqr", "eigen"
const char* lda_shrinkage_name(LdaShrinkage s) noexcept;    ///< "none", "auto", "fixed"

struct LdaOptions {
  LdaSolver solver = LdaSolver::svd;
  LdaShrinkage shrinkage = LdaShrinkage::none;  ///< not allowed with solver svd (as in scikit-learn)
  double shrinkage_value = 0.0;                 ///< in [0, 1], used when shrinkage == fixed
  double tol = 1e-4;                            ///< svd: singular values <= tol count as rank-deficient
  std::vector<double> priors;                   ///< per class (size n_classes), >= 0; empty = class frequencies
};

class LdaClassifier final : public Classifier {
 public:
  LdaClassifier() = default;

  /// Fits on `features` [n_rows x n_cols] row-major with `labels` (size n_rows, each in
  /// [0, class_names.size())). feature_names: empty or n_cols names. Needs n_rows > number of distinct
  /// labels, finite values, n_cols >= 1. Errors: invalid_argument (shapes, labels, options), empty.
  static Result<LdaClassifier> fit(const double* features, std::size_t n_rows, std::size_t n_cols,
                                   std::span<const int> labels, std::vector<std::string> class_names,
                                   std::vector<std::string> feature_names = {}, const LdaOptions& options = {});

  // ---- Classifier ----
  std::size_t n_inputs() const noexcept override { return n_features_; }
  std::size_t n_classes() const noexcept override { return class_names_.size(); }
  const std::vector<std::string>& class_names() const noexcept override { return class_names_; }
  const std::vector<std::string>& input_names() const noexcept override { return feature_names_; }
  InputKind input_kind() const noexcept override { return InputKind::features; }
  /// LDA needs no scratch: always ok.
  Status reserve(std::size_t max_rows) override;
  /// softmax(coef * x + intercept) per row; allocation-free, any n_rows.
  Status predict_proba(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* out_probs) override;

  /// Decision values coef * x + intercept, [n_rows x n_classes] (-inf for classes absent from training).
  Status decision_function(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* out) const;

  /// The model adapted to a new person's windows (same feature columns; labels index class_names()): each
  /// trained class's mean moves to the person's by n_k / (n_k + prior_windows), the pooled within-class
  /// covariance to the person's (Ledoit-Wolf shrinkage, as a refit on a few seconds needs) by N / (N +
  /// prior_windows), and the discriminant is solved again (lsqr) with the model's priors. prior_windows is how
  /// many of the person's windows weigh as much as the base model: 0 = the person's statistics only (a refit
  /// with those priors), large = the base unchanged. Classes the person did not record keep the base's mean.
  /// Errors: invalid_argument (shapes, labels, non-finite values, a class the model was not trained on,
  /// prior_windows < 0), unsupported (a model without its covariance: files written before it was stored).
  Result<LdaClassifier> adapt(const double* features, std::size_t n_rows, std::size_t n_cols,
                              std::span<const int> labels, double prior_windows) const;

  // ---- fitted parameters (all classes; rows of untrained classes are zero) ----
  const LdaOptions& options() const noexcept { return options_; }
  const std::vector<double>& coef() const noexcept { return coef_; }            ///< [n_classes x n_inputs]
  const std::vector<double>& intercept() const noexcept { return intercept_; }  ///< [n_classes]
  const std::vector<double>& means() const noexcept { return means_; }          ///< [n_classes x n_inputs]
  const std::vector<double>& priors() const noexcept { return priors_; }        ///< [n_classes]
  const std::vector<bool>& trained() const noexcept { return trained_; }        ///< class seen in fit
  /// The pooled within-class covariance the discriminant was solved with, [n_inputs x n_inputs] (lsqr, eigen: the
  /// sum over classes of prior * class covariance, shrunk as the options say; svd: the within-class scatter over
  /// n - n_classes); empty in files written before it was kept.
  const std::vector<double>& covariance() const noexcept { return covariance_; }

  // ---- files ----
  /// JSON text: {"model":"lda","version":1,"solver","shrinkage","class_names","feature_names","n_inputs",
  /// "trained","priors","means","coef","intercept","covariance"}; doubles round-trip exactly; "covariance" is
  /// optional when reading.
  std::string to_json() const;
  static Result<LdaClassifier> from_json(std::string_view text, const std::string& display_name = "<json>");
  Status save(const std::filesystem::path& path) const;
  static Result<LdaClassifier> load(const std::filesystem::path& path);

 private:
  LdaOptions options_;
  std::size_t n_features_ = 0;
  std::vector<std::string> class_names_;
  std::vector<std::string> feature_names_;
  std::vector<bool> trained_;
  std::vector<double> priors_, means_, coef_, intercept_, covariance_;
};

}  // namespace myoexo::models
