// Knee-angle trees: the lagged envelope against a direct computation, the flat tree walker against XGBoost's own
// predictor on the trees XGBoost grew, the JSON round trip, and what a malformed ensemble or input gets.
#include "models/tree_ensemble.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "models/gradient_boosting.hpp"

#ifdef MYOEXO_HAVE_XGBOOST
#include <xgboost/c_api.h>
#endif

namespace myoexo::models {
namespace {

TEST(LaggedEnvelope, IsTheLogRmsOfEachSegmentNewestFirst) {
  LaggedEnvelope e{4, 3};
  ASSERT_EQ(e.window_length(), 12u);
  std::vector<double> w(2 * 12);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = double(i % 7) - 2.5;
  w[12 + 0] = w[12 + 1] = w[12 + 2] = w[12 + 3] = 0.0;  // channel 1's oldest segment is all zeros: missing
  std::vector<float> f(e.n_features(2));
  e.compute(w.data(), 2, f.data());
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t k = 0; k < 3; ++k) {
      if (c == 1 && k == 2) continue;
      double s = 0;
      for (std::size_t i = 12 - (k + 1) * 4; i < 12 - k * 4; ++i) s += w[c * 12 + i] * w[c * 12 + i];
      const double want = 0.5 * std::log(std::max(s / 4.0, 1e-24));
      EXPECT_NEAR(f[c * 3 + k], want, 1e-6 * std::abs(want) + 1e-6) << "channel " << c << " segment " << k;
    }
  EXPECT_EQ(f[1 * 3 + 2], f[1 * 3 + 1]);  // held backwards from the segment after it
  std::vector<double> dead(2 * 12, 0.0);
  dead[1] = 1.0;                           // channel 0: only its oldest segment has samples
  e.compute(dead.data(), 2, f.data());
  EXPECT_TRUE(std::isnan(f[0]) && std::isnan(f[1]));
  EXPECT_NEAR(f[2], 0.5 * std::log(1.0 / 4.0), 1e-6);
  for (std::size_t k = 3; k < 6; ++k) EXPECT_TRUE(std::isnan(f[k])) << k;  // channel 1: dead
  w[12 + 1] = 1e-20;  // one tiny sample: an amplitude, floored at 1e-24 mean square
  e.compute(w.data(), 2, f.data());
  EXPECT_NEAR(f[1 * 3 + 2], 0.5 * std::log(1e-24), 1e-4);
}

TEST(TreeEnsemble, WalksAHandBuiltTreeAndRefusesMalformedOnes) {
  using N = TreeEnsemble::Node;
  // x0 < 1 ? (x1 < 0 ? 10 : 20) : 30, missing x0 goes right, missing x1 left
  std::vector<N> t{{0, 1.0f, 1, 2, false}, {1, 0.0f, 3, 4, true}, {-1, 30.0f}, {-1, 10.0f}, {-1, 20.0f}};
  auto e = TreeEnsemble::create({t, {{-1, 0.5f}}}, 100.0, 2);
  ASSERT_TRUE(e) << e.error().message();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float a[] = {0.5f, -1.0f}, b[] = {0.5f, 0.0f}, c[] = {1.0f, -5.0f}, d[] = {nan, -1.0f}, g[] = {0.0f, nan};
  EXPECT_DOUBLE_EQ(e->predict(a), 110.5);
  EXPECT_DOUBLE_EQ(e->predict(b), 120.5);  // 0 is not < 0: right
  EXPECT_DOUBLE_EQ(e->predict(c), 130.5);  // 1 is not < 1: right
  EXPECT_DOUBLE_EQ(e->predict(d), 130.5);  // missing x0: default right
  EXPECT_DOUBLE_EQ(e->predict(g), 110.5);  // missing x1: default left
  auto back = TreeEnsemble::from_json(e->to_json());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_DOUBLE_EQ(back->predict(a), 110.5);
  EXPECT_EQ(back->n_trees(), 2u);

  auto cycle = t;
  cycle[1].left = 0;  // back to the root: a walk would never end
  EXPECT_FALSE(TreeEnsemble::create({cycle}, 0.0, 2));
  auto outside = t;
  outside[0].right = 9;
  EXPECT_FALSE(TreeEnsemble::create({outside}, 0.0, 2));
  EXPECT_FALSE(TreeEnsemble::create({t}, 0.0, 1));  // reads feature 1 of 1
  EXPECT_FALSE(TreeEnsemble::create({{}}, 0.0, 2));
  EXPECT_FALSE(TreeEnsemble::create({t}, std::nan(""), 2));
  auto j = e->to_json();
  j["trees"][0]["left"].erase(0);
  EXPECT_EQ(TreeEnsemble::from_json(j).error().code, ErrorCode::parse);
  EXPECT_EQ(TreeEnsemble::from_json(nlohmann::json::object()).error().code, ErrorCode::parse);
}

TEST(EnvelopeTreeRegressor, EstimatesFromTheWindowAndAnswersNanForBadInput) {
  using N = TreeEnsemble::Node;
  LaggedEnvelope env{5, 2};
  // Feature 0 = channel 0's newest segment: louder than e^-1 -> 60 deg, else 10 deg.
  auto trees = TreeEnsemble::create({{N{0, -1.0f, 1, 2, false}, N{-1, 10.0f}, N{-1, 60.0f}}}, 0.0, 4).value();
  auto r = EnvelopeTreeRegressor::create(env, 2, trees);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->n_inputs(), 20u);
  EXPECT_EQ(r->window_length(), 10u);
  std::vector<double> w(20, 0.01);
  EXPECT_DOUBLE_EQ(r->estimate(w), 10.0);
  for (std::size_t i = 5; i < 10; ++i) w[i] = 1.0;  // channel 0's newest 5 samples
  EXPECT_DOUBLE_EQ(r->estimate(w), 60.0);
  auto copy = r->clone();
  EXPECT_DOUBLE_EQ(copy->estimate(w), 60.0);
  w[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(r->estimate(w)));
  EXPECT_TRUE(std::isnan(r->estimate(std::span<const double>(w).first(19))));
  auto back = EnvelopeTreeRegressor::from_json(r->to_json());
  ASSERT_TRUE(back) << back.error().message();
  w[3] = 0.01;
  EXPECT_DOUBLE_EQ(back->estimate(w), 60.0);
  EXPECT_FALSE(EnvelopeTreeRegressor::create(env, 3, trees));  // 6 features, the trees read 4
  EXPECT_FALSE(EnvelopeTreeRegressor::create(LaggedEnvelope{0, 2}, 2, trees));
}

#ifdef MYOEXO_HAVE_XGBOOST
// The trees XGBoost grows, walked here, predict what XGBoost's own predictor does on the same rows (float
// rounding of the leaf sums only), and what they learned is the function behind the data.
TEST(GradientBoosting, TheFlatTreesPredictWhatXgboostPredicts) {
  const std::size_t rows = 600, cols = 5;
  std::mt19937 gen(7);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> X(rows * cols), y(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t c = 0; c < cols; ++c) X[i * cols + c] = n(gen);
    X[i * cols + 4] = i % 17 == 0 ? std::numeric_limits<float>::quiet_NaN() : X[i * cols + 4];  // missing values
    y[i] = 30.0f + 20.0f * std::tanh(X[i * cols]) + 5.0f * X[i * cols + 1] * X[i * cols + 2] + 0.5f * n(gen);
  }
  GradientBoostingOptions o;
  o.rounds = 120;
  auto trees = fit_gradient_boosting(X, rows, cols, y, o);
  ASSERT_TRUE(trees) << trees.error().message();
  EXPECT_EQ(trees->n_trees(), 120u);

  // XGBoost itself, the same data and parameters.
  DMatrixHandle dm = nullptr;
  BoosterHandle b = nullptr;
  ASSERT_EQ(XGDMatrixCreateFromMat(X.data(), rows, cols, std::numeric_limits<float>::quiet_NaN(), &dm), 0);
  ASSERT_EQ(XGDMatrixSetFloatInfo(dm, "label", y.data(), rows), 0);
  ASSERT_EQ(XGBoosterCreate(&dm, 1, &b), 0);
  double mean = 0;
  for (float v : y) mean += v;
  char base[64];
  std::snprintf(base, sizeof base, "%.17g", mean / double(rows));
  for (const auto& [k, v] : std::vector<std::pair<const char*, const char*>>{
           {"objective", "reg:squarederror"}, {"tree_method", "hist"}, {"max_depth", "4"}, {"eta", "0.050000000000000003"},
           {"lambda", "1"}, {"min_child_weight", "1"}, {"seed", "0"}, {"nthread", "1"}, {"base_score", base},
           {"verbosity", "0"}})
    ASSERT_EQ(XGBoosterSetParam(b, k, v), 0);
  for (int i = 0; i < 120; ++i) ASSERT_EQ(XGBoosterUpdateOneIter(b, i, dm), 0);
  bst_ulong len = 0;
  const float* pred = nullptr;
  ASSERT_EQ(XGBoosterPredict(b, dm, 0, 0, 0, &len, &pred), 0);
  ASSERT_EQ(len, rows);
  double max_diff = 0, se = 0, sy = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const double mine = trees->predict(X.data() + i * cols);
    max_diff = std::max(max_diff, std::abs(mine - double(pred[i])));
    se += (mine - y[i]) * (mine - y[i]);
    sy += (y[i] - mean / double(rows)) * (y[i] - mean / double(rows));
  }
  XGBoosterFree(b);
  XGDMatrixFree(dm);
  EXPECT_LT(max_diff, 1e-3);     // float leaf sums of ~60 deg
  EXPECT_GT(1.0 - se / sy, 0.9);  // it learned the function (training R^2)

  // Bad input: sizes, options, a non-finite target.
  EXPECT_FALSE(fit_gradient_boosting(std::span<const float>(X).first(10), rows, cols, y));
  o.learning_rate = 0.0;
  EXPECT_FALSE(fit_gradient_boosting(X, rows, cols, y, o));
  y[3] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(fit_gradient_boosting(X, rows, cols, y));
}
#else
TEST(GradientBoosting, WithoutXgboostTrainingIsUnsupported) {
  std::vector<float> X(4, 1.0f), y(2, 1.0f);
  auto r = fit_gradient_boosting(X, 2, 2, y);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unsupported);
}
#endif

}  // namespace
}  // namespace myoexo::models
