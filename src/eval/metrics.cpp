#include "eval/metrics.hpp"

namespace myoexo::eval {

Result<Metrics> metrics_from_confusion(std::span<const std::size_t> confusion, std::size_t n_classes) {
  if (n_classes == 0) return make_error(ErrorCode::invalid_argument, "metrics: n_classes must be >= 1");
  if (confusion.size() != n_classes * n_classes)
    return make_error(ErrorCode::invalid_argument, "metrics: confusion matrix must have n_classes^2 entries");
  const std::size_t k = n_classes;
  Metrics m;
  m.n_classes = k;
  m.confusion.assign(confusion.begin(), confusion.end());
  m.confusion_normalised.assign(k * k, 0.0);
  m.per_class.resize(k);
  std::vector<std::size_t> row(k, 0), col(k, 0);
  std::size_t correct = 0;
  for (std::size_t t = 0; t < k; ++t)
    for (std::size_t p = 0; p < k; ++p) {
      const std::size_t c = confusion[t * k + p];
      row[t] += c;
      col[p] += c;
      m.n_samples += c;
      if (t == p) correct += c;
    }
  m.accuracy = m.n_samples ? double(correct) / double(m.n_samples) : 0.0;
  double recall_sum = 0.0, f1_sum = 0.0;
  std::size_t n_true_classes = 0, n_seen_classes = 0;
  for (std::size_t c = 0; c < k; ++c) {
    const double tp = double(confusion[c * k + c]);
    ClassScores& s = m.per_class[c];
    s.support = row[c];
    s.precision = col[c] ? tp / double(col[c]) : 0.0;
    s.recall = row[c] ? tp / double(row[c]) : 0.0;
    s.f1 = (s.precision + s.recall) > 0.0 ? 2.0 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
    if (row[c]) {
      recall_sum += s.recall;
      ++n_true_classes;
      for (std::size_t p = 0; p < k; ++p) m.confusion_normalised[c * k + p] = double(confusion[c * k + p]) / double(row[c]);
    }
    if (row[c] || col[c]) {
      f1_sum += s.f1;
      ++n_seen_classes;
    }
  }
  m.balanced_accuracy = n_true_classes ? recall_sum / double(n_true_classes) : 0.0;
  m.macro_f1 = n_seen_classes ? f1_sum / double(n_seen_classes) : 0.0;
  return m;
}

Result<Metrics> compute_metrics(std::span<const int> y_true, std::span<const int> y_pred, std::size_t n_classes) {
  if (y_true.size() != y_pred.size())
    return make_error(ErrorCode::invalid_argument, "metrics: " + std::to_string(y_true.size()) + " true labels but " +
                                                       std::to_string(y_pred.size()) + " predictions");
  if (n_classes == 0) return make_error(ErrorCode::invalid_argument, "metrics: n_classes must be >= 1");
  std::vector<std::size_t> confusion(n_classes * n_classes, 0);
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const int t = y_true[i], p = y_pred[i];
    if (t < 0 || p < 0 || std::size_t(t) >= n_classes || std::size_t(p) >= n_classes)
      return make_error(ErrorCode::invalid_argument, "metrics: label outside [0, " + std::to_string(n_classes) +
                                                         ") at index " + std::to_string(i));
    ++confusion[std::size_t(t) * n_classes + std::size_t(p)];
  }
  return metrics_from_confusion(confusion, n_classes);
}

}  // namespace myoexo::eval
