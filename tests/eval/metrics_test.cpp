#include "eval/metrics.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/test_data.hpp"

namespace myoexo::eval {
namespace {

std::vector<int> ints(const test::NpyArray& a) {
  std::vector<int> v(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) v[i] = int(a[i]);
  return v;
}

TEST(Metrics, MatchScikitLearnIncludingAClassNeverTrue) {
  const auto dir = test::fixture_dir();
  if (!std::filesystem::exists(dir / "metrics_y_true.npy")) GTEST_SKIP() << "metrics fixtures missing (needs scikit-learn)";
  const auto y_true = ints(test::load_npy(dir / "metrics_y_true.npy"));
  const auto y_pred = ints(test::load_npy(dir / "metrics_y_pred.npy"));
  const auto cm = test::load_npy(dir / "metrics_confusion.npy");
  const auto prec = test::load_npy(dir / "metrics_precision.npy");
  const auto rec = test::load_npy(dir / "metrics_recall.npy");
  const auto f1 = test::load_npy(dir / "metrics_f1.npy");
  const auto sup = test::load_npy(dir / "metrics_support.npy");
  const auto sc = test::load_npy(dir / "metrics_scalars.npy");
  const std::size_t k = cm.shape[0];
  auto m = compute_metrics(y_true, y_pred, k);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_NEAR(m->accuracy, sc[0], 1e-15);
  EXPECT_NEAR(m->balanced_accuracy, sc[1], 1e-15);
  EXPECT_NEAR(m->macro_f1, sc[2], 1e-15);
  for (std::size_t i = 0; i < k * k; ++i) EXPECT_EQ(double(m->confusion[i]), cm[i]);
  for (std::size_t c = 0; c < k; ++c) {
    EXPECT_NEAR(m->per_class[c].precision, prec[c], 1e-15) << c;
    EXPECT_NEAR(m->per_class[c].recall, rec[c], 1e-15) << c;
    EXPECT_NEAR(m->per_class[c].f1, f1[c], 1e-15) << c;
    EXPECT_EQ(double(m->per_class[c].support), sup[c]) << c;
  }
}

TEST(Metrics, ConfusionRowsNormaliseToOneAndEmptyRowsStayZero) {
  const std::vector<int> t = {0, 0, 1, 1, 1, 0};
  const std::vector<int> p = {0, 1, 1, 1, 0, 0};
  auto m = compute_metrics(t, p, 3);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->confusion_at(0, 0), 2u);
  EXPECT_EQ(m->confusion_at(1, 0), 1u);
  EXPECT_DOUBLE_EQ(m->confusion_normalised[0] + m->confusion_normalised[1], 1.0);
  EXPECT_DOUBLE_EQ(m->confusion_normalised[3 * 1 + 1], 2.0 / 3.0);
  for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(m->confusion_normalised[6 + j], 0.0);
  EXPECT_DOUBLE_EQ(m->accuracy, 4.0 / 6.0);
  // Class 2 is neither true nor predicted: it does not dilute the balanced accuracy or macro-F1.
  EXPECT_DOUBLE_EQ(m->balanced_accuracy, (2.0 / 3.0 + 2.0 / 3.0) / 2.0);
  EXPECT_DOUBLE_EQ(m->macro_f1, (2.0 / 3.0 + 2.0 / 3.0) / 2.0);
}

TEST(Metrics, SummedConfusionGivesPooledScores) {
  auto a = compute_metrics(std::vector<int>{0, 1}, std::vector<int>{0, 0}, 2);
  auto b = compute_metrics(std::vector<int>{1, 1}, std::vector<int>{1, 1}, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<std::size_t> sum(4);
  for (std::size_t i = 0; i < 4; ++i) sum[i] = a->confusion[i] + b->confusion[i];
  auto pooled = metrics_from_confusion(sum, 2);
  auto direct = compute_metrics(std::vector<int>{0, 1, 1, 1}, std::vector<int>{0, 0, 1, 1}, 2);
  ASSERT_TRUE(pooled.ok() && direct.ok());
  EXPECT_EQ(pooled->accuracy, direct->accuracy);
  EXPECT_EQ(pooled->macro_f1, direct->macro_f1);
  EXPECT_EQ(pooled->balanced_accuracy, direct->balanced_accuracy);
}

TEST(Metrics, BadInputIsAnErrorNotACrash) {
  EXPECT_FALSE(compute_metrics(std::vector<int>{0, 1}, std::vector<int>{0}, 2).ok());
  EXPECT_FALSE(compute_metrics(std::vector<int>{0, 5}, std::vector<int>{0, 1}, 2).ok());
  EXPECT_FALSE(compute_metrics(std::vector<int>{-1}, std::vector<int>{0}, 2).ok());
  EXPECT_FALSE(compute_metrics({}, {}, 0).ok());
  EXPECT_FALSE(metrics_from_confusion(std::vector<std::size_t>{1, 2, 3}, 2).ok());
  auto empty = compute_metrics({}, {}, 3);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->accuracy, 0.0);
}

}  // namespace
}  // namespace myoexo::eval
