// myoexo::eval — train/test splits: seeded k-fold, stratified k-fold, leave-one-group-out (subjects), and the
// chronological split point of a recording. Pure functions of their inputs (and the seed): the same call
// gives the same folds on every machine (std::mt19937_64 + our own Fisher-Yates, not std::shuffle, whose
// algorithm is implementation-defined). The permutations are NOT scikit-learn's (NumPy's RNG); fold sizes are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/error.hpp"

namespace myoexo::eval {

/// One fold: indices (into the caller's items) to train on and to test on, each sorted ascending.
struct Fold {
  std::vector<std::size_t> train;
  std::vector<std::size_t> test;
  int group = -1;  ///< leave_one_group_out: the held-out group id; -1 otherwise
};

/// k folds over n items (2 <= k <= n). Without shuffle fold i tests a contiguous block; the first n % k folds
/// hold n / k + 1 items, the rest n / k (sklearn KFold sizes). With shuffle the items are permuted with
/// `seed` first. Errors: invalid_argument.
Result<std::vector<Fold>> kfold(std::size_t n, std::size_t k, bool shuffle = true, std::uint64_t seed = 0);

/// k folds in which every class is spread evenly: per class (labels >= 0) the items are shuffled with `seed`
/// and dealt to the folds in turn, continuing the turn across classes, so each fold's count of a class
/// differs from another fold's by at most 1 and fold sizes differ by at most 1. Needs 2 <= k <= n.
Result<std::vector<Fold>> stratified_kfold(std::span<const int> labels, std::size_t k, std::uint64_t seed = 0);

/// One fold per distinct group id (>= 0), in ascending id order: test = that group's items, train = all
/// others. Needs at least 2 groups. This is leave-one-subject-out when groups are subject ids.
Result<std::vector<Fold>> leave_one_group_out(std::span<const int> groups);

/// The chronological split point floor(fraction * n_samples): samples [0, point) train, [point, n) test.
/// fraction in [0, 1] (clamped).
std::size_t chronological_split_point(std::size_t n_samples, double fraction = 0.7) noexcept;

}  // namespace myoexo::eval
