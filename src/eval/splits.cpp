#include "eval/splits.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

namespace myoexo::eval {

namespace {

/// Fisher-Yates with an explicit uniform draw (std::uniform_int_distribution is implementation-defined too).
void shuffle_indices(std::vector<std::size_t>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    // Unbiased draw in [0, i) by rejection.
    const std::uint64_t bound = std::uint64_t(i);
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % bound;
    std::uint64_t r;
    do r = rng();
    while (r >= limit);
    std::swap(v[i - 1], v[std::size_t(r % bound)]);
  }
}

std::vector<Fold> folds_from_assignment(const std::vector<std::size_t>& fold_of, std::size_t k) {
  std::vector<Fold> folds(k);
  for (std::size_t i = 0; i < fold_of.size(); ++i)
    for (std::size_t f = 0; f < k; ++f) (f == fold_of[i] ? folds[f].test : folds[f].train).push_back(i);
  return folds;
}

}  // namespace

Result<std::vector<Fold>> kfold(std::size_t n, std::size_t k, bool shuffle, std::uint64_t seed) {
  if (k < 2 || k > n)
    return make_error(ErrorCode::invalid_argument, "k-fold: need 2 <= k <= n (k = " + std::to_string(k) +
                                                       ", n = " + std::to_string(n) + ")");
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  if (shuffle) {
    std::mt19937_64 rng(seed);
    shuffle_indices(order, rng);
  }
  std::vector<std::size_t> fold_of(n);
  std::size_t pos = 0;
  for (std::size_t f = 0; f < k; ++f) {
    const std::size_t size = n / k + (f < n % k ? 1 : 0);
    for (std::size_t j = 0; j < size; ++j) fold_of[order[pos++]] = f;
  }
  return folds_from_assignment(fold_of, k);
}

Result<std::vector<Fold>> stratified_kfold(std::span<const int> labels, std::size_t k, std::uint64_t seed) {
  const std::size_t n = labels.size();
  if (k < 2 || k > n)
    return make_error(ErrorCode::invalid_argument, "stratified k-fold: need 2 <= k <= n (k = " + std::to_string(k) +
                                                       ", n = " + std::to_string(n) + ")");
  std::map<int, std::vector<std::size_t>> by_class;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0) return make_error(ErrorCode::invalid_argument, "stratified k-fold: negative label");
    by_class[labels[i]].push_back(i);
  }
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> fold_of(n);
  std::size_t turn = 0;
  for (auto& [label, idx] : by_class) {
    shuffle_indices(idx, rng);
    for (std::size_t i : idx) fold_of[i] = turn++ % k;
  }
  return folds_from_assignment(fold_of, k);
}

Result<std::vector<Fold>> leave_one_group_out(std::span<const int> groups) {
  std::vector<int> ids;
  for (int g : groups) {
    if (g < 0) return make_error(ErrorCode::invalid_argument, "leave-one-group-out: negative group id");
    ids.push_back(g);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() < 2) return make_error(ErrorCode::invalid_argument, "leave-one-group-out: need at least 2 groups");
  std::vector<Fold> folds(ids.size());
  for (std::size_t f = 0; f < ids.size(); ++f) {
    folds[f].group = ids[f];
    for (std::size_t i = 0; i < groups.size(); ++i) (groups[i] == ids[f] ? folds[f].test : folds[f].train).push_back(i);
  }
  return folds;
}

std::size_t chronological_split_point(std::size_t n_samples, double fraction) noexcept {
  if (!(fraction > 0.0)) return 0;
  if (fraction >= 1.0) return n_samples;
  return static_cast<std::size_t>(std::floor(fraction * static_cast<double>(n_samples)));
}

}  // namespace myoexo::eval
