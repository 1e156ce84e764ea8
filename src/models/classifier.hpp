// myoexo::models — the one interface every classifier offers: class probabilities for a batch of rows.
//
// Why one interface for LDA (feature rows) and the LibTorch networks (raw windows): evaluation protocols,
// model files and the live stream call `predict_proba` without knowing which model sits behind it. The
// interface is torch-free so the core builds without LibTorch.
//
// Lifecycle: a model is made by its own fit()/load() (which validate and allocate); `reserve(max_rows)`
// sizes any scratch the model needs; after that `predict_proba` with n_rows <= max_rows allocates nothing,
// never throws and reports bad shapes as a Status.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace myoexo::models {

/// What one input row is.
enum class InputKind {
  features,  ///< a feature vector (n_inputs values, names in input_names())
  windows,   ///< a raw window, channel-major: [channels x window_len] samples (n_inputs = channels * window_len)
};

class Classifier {
 public:
  virtual ~Classifier() = default;

  /// Values per input row (features per row, or channels * window samples per window).
  virtual std::size_t n_inputs() const noexcept = 0;
  /// Number of classes = columns of the probability output.
  virtual std::size_t n_classes() const noexcept = 0;
  /// Class names, index = class id = probability column.
  virtual const std::vector<std::string>& class_names() const noexcept = 0;
  /// Names of the input columns (feature names, or channel names for windows); may be empty.
  virtual const std::vector<std::string>& input_names() const noexcept = 0;
  virtual InputKind input_kind() const noexcept = 0;

  /// Allocates scratch for batches of up to `max_rows` rows (models without scratch accept any n_rows).
  virtual Status reserve(std::size_t max_rows) = 0;

  /// Class probabilities for a batch.
  /// inputs: [n_rows x n_cols] row-major, n_cols must equal n_inputs(); out_probs: [n_rows x n_classes()]
  /// row-major, each row sums to 1. Allocation-free after reserve(); errors (wrong n_cols, non-finite
  /// input, n_rows above the reserve of a model with scratch) come back as a Status, out_probs then undefined.
  /// Not thread-safe on one object (models may own scratch): use one copy per thread.
  virtual Status predict_proba(const double* inputs, std::size_t n_rows, std::size_t n_cols,
                               double* out_probs) = 0;

  /// Most probable class per row (ties -> lowest id); out_labels has n_rows entries; `scratch_probs` has
  /// n_rows * n_classes() entries (caller-owned so this stays allocation-free).
  Status predict(const double* inputs, std::size_t n_rows, std::size_t n_cols, double* scratch_probs,
                 int* out_labels) {
    Status s = predict_proba(inputs, n_rows, n_cols, scratch_probs);
    if (!s) return s;
    const std::size_t k = n_classes();
    for (std::size_t r = 0; r < n_rows; ++r) {
      const double* p = scratch_probs + r * k;
      std::size_t best = 0;
      for (std::size_t c = 1; c < k; ++c)
        if (p[c] > p[best]) best = c;
      out_labels[r] = static_cast<int>(best);
    }
    return {};
  }
};

}  // namespace myoexo::models
