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

TEST(LaggedEnvelope, IsTheLogRmsAndWaveformLengthOfEachSegmentNewestFirst) {
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
  // Then each segment's log waveform length per sample, the same holding.
  ASSERT_EQ(f.size(), 12u);
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t k = 0; k < 3; ++k) {
      if (c == 1 && k == 2) continue;
      double wl = 0;
      for (std::size_t i = 12 - (k + 1) * 4 + 1; i < 12 - k * 4; ++i) wl += std::abs(w[c * 12 + i] - w[c * 12 + i - 1]);
      const double want = std::log(std::max(wl / 4.0, 1e-24));
      EXPECT_NEAR(f[(2 + c) * 3 + k], want, 1e-6 * std::abs(want) + 1e-6) << "channel " << c << " segment " << k;
    }
  EXPECT_EQ(f[3 * 3 + 2], f[3 * 3 + 1]);
  // Amplitude only (model files from before the waveform length): the same first features.
  LaggedEnvelope rms_only{4, 3, false};
  std::vector<float> g(rms_only.n_features(2));
  ASSERT_EQ(g.size(), 6u);
  rms_only.compute(w.data(), 2, g.data());
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(g[i], f[i]);
  std::vector<double> dead(2 * 12, 0.0);
  dead[1] = 1.0;                           // channel 0: only its oldest segment has samples
  e.compute(dead.data(), 2, f.data());
  EXPECT_TRUE(std::isnan(f[0]) && std::isnan(f[1]));
  EXPECT_NEAR(f[2], 0.5 * std::log(1.0 / 4.0), 1e-6);
  for (std::size_t k : {3, 4, 5, 9, 10, 11}) EXPECT_TRUE(std::isnan(f[k])) << k;  // channel 1: dead
  EXPECT_TRUE(std::isnan(f[6]) && std::isnan(f[7]));
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
  LaggedEnvelope env{5, 2, false};
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
  // A file from before the waveform length (no key): amplitude only, as it was trained.
  auto old_file = r->to_json();
  old_file.erase("waveform_length");
  auto old_back = EnvelopeTreeRegressor::from_json(old_file);
  ASSERT_TRUE(old_back) << old_back.error().message();
  EXPECT_FALSE(old_back->envelope().waveform_length);
  EXPECT_DOUBLE_EQ(old_back->estimate(w), 60.0);
  // A hostile or inconsistent file: the flag of another type, or claiming waveform lengths the trees do not read.
  auto hostile = r->to_json();
  hostile["waveform_length"] = "yes";
  EXPECT_EQ(EnvelopeTreeRegressor::from_json(hostile).error().code, ErrorCode::parse);
  hostile["waveform_length"] = true;  // 8 features, the trees read 4
  EXPECT_EQ(EnvelopeTreeRegressor::from_json(hostile).error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(EnvelopeTreeRegressor::create(env, 3, trees));  // 6 features, the trees read 4
  EXPECT_FALSE(EnvelopeTreeRegressor::create(LaggedEnvelope{5, 2}, 2, trees));  // with waveform length: 8
  EXPECT_FALSE(EnvelopeTreeRegressor::create(LaggedEnvelope{0, 2}, 2, trees));
  // A segment length chosen so that segment x segments wraps around to the window length of the model (2^63 + 5
  // samples x 2 = 10 modulo 2^64): refused, never a window pointer 2^63 samples away.
  hostile = r->to_json();
  hostile["segment"] = (std::uint64_t{1} << 63) + 5;
  const auto wrapped = EnvelopeTreeRegressor::from_json(hostile);
  ASSERT_FALSE(wrapped);
  EXPECT_EQ(wrapped.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(wrapped.error().message().find("2^24"), std::string::npos) << wrapped.error().message();
}

// A random ensemble of random full trees over `features` features (splits near the data's range).
TreeEnsemble random_ensemble(std::size_t features, std::size_t n_trees, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<std::int32_t> feat(0, std::int32_t(features) - 1);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::bernoulli_distribution coin(0.5);
  std::vector<std::vector<TreeEnsemble::Node>> trees;
  for (std::size_t t = 0; t < n_trees; ++t) {
    // Depth 3, heap order: node i has children 2i+1 and 2i+2; the last 8 are leaves.
    std::vector<TreeEnsemble::Node> nodes(15);
    for (std::int32_t i = 0; i < 15; ++i)
      nodes[std::size_t(i)] = i < 7 ? TreeEnsemble::Node{feat(gen), n(gen), 2 * i + 1, 2 * i + 2, coin(gen)}
                                    : TreeEnsemble::Node{-1, 10.0f * n(gen), -1, -1, false};
    trees.push_back(std::move(nodes));
  }
  auto e = TreeEnsemble::create(std::move(trees), 42.5, features);
  EXPECT_TRUE(e);
  return std::move(*e);
}

// Fixing a person indicator turns a pooled model into that person's: the fixed ensemble reads the leading features
// only and predicts exactly what the full one predicts with the indicator appended, missing values included.
TEST(TreeEnsemble, FixingTrailingFeaturesPredictsWhatTheFullEnsemblePredicts) {
  const std::size_t keep = 4, features = 7;
  const TreeEnsemble full = random_ensemble(features, 50, 3);
  std::mt19937 gen(11);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const std::vector<float> fixed : {std::vector<float>{1, 0, 0}, std::vector<float>{0, 0, 1},
                                         std::vector<float>{0, 0, 0}, std::vector<float>{nan, 0.3f, -2}}) {
    auto part = full.fix_trailing_features(keep, fixed);
    ASSERT_TRUE(part) << part.error().message();
    EXPECT_EQ(part->n_features(), keep);
    EXPECT_EQ(part->n_trees(), full.n_trees());
    for (int k = 0; k < 200; ++k) {
      std::vector<float> x(features);
      for (std::size_t c = 0; c < keep; ++c) x[c] = k % 13 == 0 && c == 1 ? nan : n(gen);
      std::copy(fixed.begin(), fixed.end(), x.begin() + keep);
      ASSERT_EQ(part->predict(x.data()), full.predict(x.data())) << "row " << k;
    }
    // It is a valid ensemble of its own: written and read back, the same.
    auto back = TreeEnsemble::from_json(part->to_json());
    ASSERT_TRUE(back);
    std::vector<float> x{0.1f, -0.2f, 0.3f, nan};
    EXPECT_EQ(back->predict(x.data()), part->predict(x.data()));
  }
  EXPECT_FALSE(full.fix_trailing_features(0, std::vector<float>(7)));
  EXPECT_FALSE(full.fix_trailing_features(4, std::vector<float>(2)));
  EXPECT_FALSE(full.fix_trailing_features(8, std::vector<float>{}));
}

TEST(TreeEnsemble, AWeightedSumPredictsTheWeightedSumOfItsParts) {
  const TreeEnsemble a = random_ensemble(5, 30, 5), b = random_ensemble(5, 20, 6);
  auto sum = TreeEnsemble::weighted_sum(a, 0.3, b, 0.7);
  ASSERT_TRUE(sum) << sum.error().message();
  EXPECT_EQ(sum->n_trees(), 50u);
  std::mt19937 gen(2);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (int k = 0; k < 200; ++k) {
    std::vector<float> x(5);
    for (float& v : x) v = n(gen);
    // Leaves are kept as float: ~1e-6 relative per leaf, 50 leaves of ~10.
    EXPECT_NEAR(sum->predict(x.data()), 0.3 * a.predict(x.data()) + 0.7 * b.predict(x.data()), 1e-4);
  }
  EXPECT_FALSE(TreeEnsemble::weighted_sum(a, 0.5, random_ensemble(6, 3, 1), 0.5));
  EXPECT_FALSE(TreeEnsemble::weighted_sum(a, std::numeric_limits<double>::quiet_NaN(), b, 0.5));
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
  o.colsample_bytree = 1.0;  // 5 columns: every tree may need the interaction's two (rows still subsampled)
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
           {"lambda", "1"}, {"min_child_weight", "1"}, {"subsample", "0.80000000000000004"}, {"colsample_bytree", "1"}, {"seed", "0"}, {"nthread", "1"}, {"base_score", base},
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

// Two people whose angle follows the same envelope with a 20-degree offset between them: the pooled model with a
// person indicator, fixed at one person, follows that person's offset; for nobody it lands between them; with
// the person's own rows mixed in it stays on the person.
TEST(GradientBoosting, PersonTreesFromAPooledModelFollowTheirPerson) {
  const std::size_t rows = 800, cols = 3;
  std::mt19937 gen(9);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> X(rows * cols), y(rows);
  std::vector<int> subject(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    subject[i] = int(i % 2);
    for (std::size_t c = 0; c < cols; ++c) X[i * cols + c] = n(gen);
    y[i] = 40.0f + 15.0f * std::tanh(X[i * cols]) + (subject[i] == 1 ? 20.0f : 0.0f) + 0.3f * n(gen);
  }
  GradientBoostingOptions po;
  po.rounds = 150;
  po.colsample_bytree = 1.0;
  auto pooled = fit_pooled_trees(X, rows, cols, y, subject, 2, po);
  ASSERT_TRUE(pooled) << pooled.error().message();
  EXPECT_EQ(pooled->n_features(), cols + 2);
  PersonTreeOptions opt;
  opt.own.rounds = 100;
  opt.own.colsample_bytree = 1.0;
  // Person 1's own rows.
  std::vector<float> own_x, own_y;
  for (std::size_t i = 1; i < rows; i += 2) {
    own_x.insert(own_x.end(), X.begin() + std::ptrdiff_t(i * cols), X.begin() + std::ptrdiff_t((i + 1) * cols));
    own_y.push_back(y[i]);
  }
  auto p0 = fit_person_trees(*pooled, cols, 2, 0, {}, 0, {}, opt);
  auto p1 = fit_person_trees(*pooled, cols, 2, 1, {}, 0, {}, opt);
  auto nobody = fit_person_trees(*pooled, cols, 2, -1, {}, 0, {}, opt);
  auto p1_own = fit_person_trees(*pooled, cols, 2, 1, own_x, own_y.size(), own_y, opt);
  ASSERT_TRUE(p0 && p1 && nobody && p1_own);
  EXPECT_EQ(p1->n_features(), cols);
  EXPECT_EQ(p1_own->n_trees(), pooled->n_trees() + 100);
  const float x[cols] = {0.5f, 0.0f, 0.0f};
  const double truth0 = 40.0 + 15.0 * std::tanh(0.5);
  EXPECT_NEAR(p0->predict(x), truth0, 2.0);
  EXPECT_NEAR(p1->predict(x), truth0 + 20.0, 2.0);
  EXPECT_NEAR(p1_own->predict(x), truth0 + 20.0, 3.0);
  // A person the pool has not met: the pool's average person, halfway.
  EXPECT_NEAR(nobody->predict(x), 0.5 * (p0->predict(x) + p1->predict(x)), 1e-3);
  EXPECT_EQ(nobody->n_trees(), 2 * pooled->n_trees());
  // Too few own rows: the pooled part alone.
  opt.min_own_rows = 1000;
  auto few = fit_person_trees(*pooled, cols, 2, 1, own_x, own_y.size(), own_y, opt);
  ASSERT_TRUE(few);
  EXPECT_EQ(few->predict(x), p1->predict(x));
  // Bad input: a subject out of range, a person out of range, the wrong width, a weight outside [0, 1].
  subject[5] = 2;
  EXPECT_FALSE(fit_pooled_trees(X, rows, cols, y, subject, 2, po));
  EXPECT_FALSE(fit_person_trees(*pooled, cols, 2, 2, {}, 0, {}, opt));
  EXPECT_FALSE(fit_person_trees(*pooled, cols + 1, 2, 0, {}, 0, {}, opt));
  opt.own_weight = 1.5;
  EXPECT_FALSE(fit_person_trees(*pooled, cols, 2, 0, {}, 0, {}, opt));
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
