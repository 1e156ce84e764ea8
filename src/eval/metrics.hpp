// myoexo::eval — classification metrics, defined as scikit-learn 1.2's sklearn.metrics (checked against it on
// fixtures from scripts/fixtures_models.py).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace myoexo::eval {

/// Per-class scores (sklearn precision_recall_fscore_support with zero_division=0).
struct ClassScores {
  double precision = 0.0;  ///< TP / (TP + FP); 0 when the class was never predicted
  double recall = 0.0;     ///< TP / (TP + FN); 0 when the class has no true sample
  double f1 = 0.0;         ///< 2PR / (P + R); 0 when P + R = 0
  std::size_t support = 0; ///< true samples of the class
};

/// Everything a report needs about one set of predictions over classes 0..n_classes-1.
struct Metrics {
  std::size_t n_classes = 0;
  std::size_t n_samples = 0;
  double accuracy = 0.0;           ///< correct / n_samples (0 when empty)
  /// Mean recall over the classes that have true samples (sklearn.metrics.balanced_accuracy_score).
  double balanced_accuracy = 0.0;
  /// Mean F1 over the classes present in y_true or y_pred (sklearn f1_score(average='macro')).
  double macro_f1 = 0.0;
  std::vector<ClassScores> per_class;         ///< n_classes entries
  std::vector<std::size_t> confusion;         ///< [n_classes x n_classes] row = true class, column = predicted
  std::vector<double> confusion_normalised;   ///< confusion / row sum (rows without samples are 0)

  std::size_t confusion_at(std::size_t true_class, std::size_t predicted) const {
    return confusion[true_class * n_classes + predicted];
  }
};

/// Metrics of predictions `y_pred` against `y_true` (same size; every label in [0, n_classes)).
/// Errors: invalid_argument on size mismatch, n_classes == 0 or a label out of range.
Result<Metrics> compute_metrics(std::span<const int> y_true, std::span<const int> y_pred, std::size_t n_classes);

/// Metrics from a confusion matrix [n_classes x n_classes] (row = true) — how summed (pooled over folds or
/// subjects) results are scored. Errors: invalid_argument when confusion.size() != n_classes^2.
Result<Metrics> metrics_from_confusion(std::span<const std::size_t> confusion, std::size_t n_classes);

}  // namespace myoexo::eval
