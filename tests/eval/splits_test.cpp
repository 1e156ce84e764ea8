#include "eval/splits.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace myoexo::eval {
namespace {

/// Every index is tested exactly once and train/test partition each fold.
void expect_partition(const std::vector<Fold>& folds, std::size_t n) {
  std::vector<int> tested(n, 0);
  for (const auto& f : folds) {
    EXPECT_EQ(f.train.size() + f.test.size(), n);
    EXPECT_TRUE(std::is_sorted(f.train.begin(), f.train.end()));
    EXPECT_TRUE(std::is_sorted(f.test.begin(), f.test.end()));
    std::set<std::size_t> all(f.train.begin(), f.train.end());
    for (auto i : f.test) {
      EXPECT_EQ(all.count(i), 0u);
      ++tested[i];
    }
  }
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(tested[i], 1) << i;
}

TEST(Splits, KFoldTestsEveryItemOnceWithScikitLearnFoldSizes) {
  auto folds = kfold(23, 5, true, 42);
  ASSERT_TRUE(folds.ok());
  ASSERT_EQ(folds->size(), 5u);
  expect_partition(*folds, 23);
  const std::vector<std::size_t> sizes = {5, 5, 5, 4, 4};
  for (std::size_t f = 0; f < 5; ++f) EXPECT_EQ((*folds)[f].test.size(), sizes[f]);
}

TEST(Splits, KFoldIsReproducibleForASeedAndDiffersAcrossSeeds) {
  auto a = kfold(50, 4, true, 7), b = kfold(50, 4, true, 7), c = kfold(50, 4, true, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ((*a)[0].test, (*b)[0].test);
  EXPECT_NE((*a)[0].test, (*c)[0].test);
  auto plain = kfold(10, 2, false);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)[0].test, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
}

TEST(Splits, StratifiedKFoldSpreadsEachClassEvenly) {
  std::vector<int> labels;
  for (int i = 0; i < 37; ++i) labels.push_back(0);
  for (int i = 0; i < 11; ++i) labels.push_back(1);
  for (int i = 0; i < 5; ++i) labels.push_back(2);
  auto folds = stratified_kfold(labels, 5, 3);
  ASSERT_TRUE(folds.ok());
  expect_partition(*folds, labels.size());
  for (int c = 0; c < 3; ++c) {
    std::vector<int> per_fold;
    for (const auto& f : *folds) per_fold.push_back(int(std::count_if(f.test.begin(), f.test.end(), [&](auto i) { return labels[i] == c; })));
    EXPECT_LE(*std::max_element(per_fold.begin(), per_fold.end()) - *std::min_element(per_fold.begin(), per_fold.end()), 1);
  }
}

TEST(Splits, LeaveOneGroupOutHoldsOutExactlyOneSubjectPerFold) {
  const std::vector<int> groups = {3, 1, 1, 3, 0, 0, 0, 1};
  auto folds = leave_one_group_out(groups);
  ASSERT_TRUE(folds.ok());
  ASSERT_EQ(folds->size(), 3u);
  expect_partition(*folds, groups.size());
  for (const auto& f : *folds) {
    for (auto i : f.test) EXPECT_EQ(groups[i], f.group);
    for (auto i : f.train) EXPECT_NE(groups[i], f.group);
  }
  EXPECT_EQ((*folds)[0].group, 0);
  EXPECT_EQ((*folds)[2].group, 3);
}

TEST(Splits, ChronologicalSplitIsFloorOfSeventyPercent) {
  EXPECT_EQ(chronological_split_point(12973), 9081u);  // floor(0.7 * 12973) = floor(9081.1)
  EXPECT_EQ(chronological_split_point(10), 7u);
  EXPECT_EQ(chronological_split_point(3, 0.5), 1u);
  EXPECT_EQ(chronological_split_point(100, 0.0), 0u);
  EXPECT_EQ(chronological_split_point(100, 1.5), 100u);
}

TEST(Splits, InvalidRequestsAreErrors) {
  EXPECT_FALSE(kfold(3, 5).ok());
  EXPECT_FALSE(kfold(10, 1).ok());
  EXPECT_FALSE(stratified_kfold(std::vector<int>{0, -1, 1}, 2).ok());
  EXPECT_FALSE(leave_one_group_out(std::vector<int>{2, 2, 2}).ok());
}

}  // namespace
}  // namespace myoexo::eval
