#include "models/ridge.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "common/test_data.hpp"

namespace myoexo::models {
namespace {

namespace fs = std::filesystem;
using test::load_npy;
using test::NpyArray;

/// Fits StandardScaler + Ridge on a scikit-learn fixture and compares coefficients (in the input's scale),
/// intercept and test predictions, relative to the largest magnitude of each.
void check_case(const std::string& name, double tol) {
  const std::string pre = "ridge_" + name + "_";
  if (!fs::exists(test::fixture_dir() / (pre + "X.npy"))) GTEST_SKIP() << pre << "X.npy missing (needs scikit-learn)";
  const NpyArray x = load_npy(test::fixture_dir() / (pre + "X.npy"));
  const NpyArray y = load_npy(test::fixture_dir() / (pre + "y.npy"));
  const NpyArray xt = load_npy(test::fixture_dir() / (pre + "Xtest.npy"));
  const NpyArray coef = load_npy(test::fixture_dir() / (pre + "coef.npy"));
  const NpyArray icpt = load_npy(test::fixture_dir() / (pre + "intercept.npy"));  // [intercept, alpha]
  const NpyArray pred = load_npy(test::fixture_dir() / (pre + "pred_test.npy"));
  const std::size_t n = x.shape[0], p = x.shape[1];
  RidgeOptions opt;
  opt.alpha = icpt[1];
  auto m = RidgeRegressor::fit(x.data.data(), n, p, y.data, {}, opt);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->n_inputs(), p);
  double cmax = 0;
  for (std::size_t c = 0; c < p; ++c) cmax = std::max(cmax, std::abs(coef[c]));
  for (std::size_t c = 0; c < p; ++c) EXPECT_NEAR(m->coef()[c], coef[c], tol * cmax) << name << " coef " << c;
  EXPECT_NEAR(m->intercept(), icpt[0], tol * std::max(1.0, std::abs(icpt[0]))) << name;
  std::vector<double> out(xt.shape[0]);
  ASSERT_TRUE(m->predict(xt.data.data(), xt.shape[0], p, out.data()));
  double pmax = 0;
  for (double v : pred.data) pmax = std::max(pmax, std::abs(v));
  for (std::size_t r = 0; r < out.size(); ++r) EXPECT_NEAR(out[r], pred[r], tol * pmax) << name << " row " << r;
}

TEST(Ridge, MatchesScikitLearnSynthetic) {
  check_case("synthetic0", 1e-9);
  check_case("synthetic1", 1e-7);  // alpha 0.01 with a nearly collinear column: conditioning ~1e6
  check_case("synthetic2", 1e-9);
}

TEST(Ridge, MatchesScikitLearnOnRealFeatures) { check_case("real", 1e-9); }

TEST(Ridge, RecoversALinearLawAndRoundTripsThroughJson) {
  std::mt19937 rng(3);
  std::normal_distribution<double> nd;
  const std::size_t n = 400, p = 3;
  std::vector<double> x(n * p), y(n);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < p; ++c) x[r * p + c] = nd(rng) * double(c + 1) + 5.0;
    y[r] = 2.0 * x[r * p] - 0.5 * x[r * p + 1] + 0.25 * x[r * p + 2] + 30.0;
  }
  auto m = RidgeRegressor::fit(x.data(), n, p, y, {"a", "b", "c"}, {.alpha = 1e-9});
  ASSERT_TRUE(m);
  EXPECT_NEAR(m->coef()[0], 2.0, 1e-9);
  EXPECT_NEAR(m->coef()[1], -0.5, 1e-9);
  EXPECT_NEAR(m->coef()[2], 0.25, 1e-9);
  EXPECT_NEAR(m->intercept(), 30.0, 1e-8);
  auto back = RidgeRegressor::from_json(m->to_json());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->coef(), m->coef());
  EXPECT_EQ(back->intercept(), m->intercept());
  EXPECT_EQ(back->input_names(), m->input_names());
  const double row[3] = {1.0, 2.0, 3.0};
  EXPECT_EQ(back->predict_one(row), m->predict_one(row));
}

TEST(Ridge, BadInputIsAnErrorAndNonFiniteRowsGiveNaN) {
  const std::vector<double> x{1, 2, 3, 4, 5, 6};
  const std::vector<double> y{1, 2, 3};
  EXPECT_FALSE(RidgeRegressor::fit(x.data(), 3, 2, std::vector<double>{1, 2}, {}));          // target count
  EXPECT_FALSE(RidgeRegressor::fit(x.data(), 1, 2, std::vector<double>{1}, {}));             // one row
  EXPECT_FALSE(RidgeRegressor::fit(x.data(), 3, 2, y, {}, {.alpha = -1.0}));                  // negative alpha
  EXPECT_FALSE(RidgeRegressor::fit(x.data(), 3, 2, y, {"only one"}));                          // names
  std::vector<double> xn = x;
  xn[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(RidgeRegressor::fit(xn.data(), 3, 2, y, {}));
  std::vector<double> yn = y;
  yn[1] = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(RidgeRegressor::fit(x.data(), 3, 2, yn, {}));
  // A duplicated column with alpha 0 is singular: refused, never a silent garbage model.
  const std::vector<double> dup{1, 1, 2, 2, 3, 3, 4, 4};
  EXPECT_FALSE(RidgeRegressor::fit(dup.data(), 4, 2, std::vector<double>{1, 2, 3, 4}, {}, {.alpha = 0.0}));

  auto m = RidgeRegressor::fit(x.data(), 3, 2, y, {});
  ASSERT_TRUE(m);
  std::vector<double> out(2);
  EXPECT_FALSE(m->predict(x.data(), 2, 3, out.data()));  // wrong width
  const std::vector<double> rows{1, 2, std::numeric_limits<double>::quiet_NaN(), 4};
  EXPECT_FALSE(m->predict(rows.data(), 2, 2, out.data()));
  EXPECT_TRUE(std::isfinite(out[0]));
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_FALSE(RidgeRegressor::from_json("{\"model\":\"lda\"}"));
  EXPECT_FALSE(RidgeRegressor::from_json("not json"));
  EXPECT_FALSE(RidgeRegressor::from_json(
      R"({"model":"ridge","version":1,"alpha":1,"standardize":true,"feature_names":[],"mean":[0],"scale":[1,1],"min":[0],"max":[1],"coef":[1],"intercept":0})"));
}

TEST(Ridge, ClippingToTheTrainingRangeBoundsTheEstimateOfAnInputFarOutside) {
  const std::vector<double> x{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<double> y{0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  auto free = RidgeRegressor::fit(x.data(), 10, 1, y, {}, {.alpha = 1e-9});
  auto clipped = RidgeRegressor::fit(x.data(), 10, 1, y, {}, {.alpha = 1e-9, .clip_to_training_range = true});
  ASSERT_TRUE(free);
  ASSERT_TRUE(clipped);
  const double far[1] = {-27.6};  // the log amplitude of a flat channel
  EXPECT_LT(free->predict_one(far), -200.0);
  EXPECT_NEAR(clipped->predict_one(far), 0.0, 1e-6);
  const double inside[1] = {4.5};
  EXPECT_NEAR(clipped->predict_one(inside), free->predict_one(inside), 1e-12);
  auto back = RidgeRegressor::from_json(clipped->to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->predict_one(far), clipped->predict_one(far));
}

}  // namespace
}  // namespace myoexo::models
