#include "models/lda.hpp"

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

bool fixture_exists(const std::string& name) { return fs::exists(test::fixture_dir() / (name + ".npy")); }

struct Case {
  const char* name;
  LdaSolver solver;
  LdaShrinkage shrinkage;
  double shrinkage_value;
};

std::vector<int> to_labels(const NpyArray& y) {
  std::vector<int> out(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) out[i] = static_cast<int>(y[i]);
  return out;
}

/// Fits one fixture case and checks means, coef, intercept (relative error < tol_param) and probabilities
/// (absolute error < tol) against scikit-learn. lsqr solves with an ill-conditioned covariance (a nearly
/// collinear column; HTD counts next to mV amplitudes), so its coefficients agree to ~1e-8 relative only,
/// while the probabilities still agree to 1e-9.
void check_case(const Case& c, double tol, double tol_param) {
  const std::string pre = std::string("lda_") + c.name + "_";
  if (!fixture_exists(pre + "X")) GTEST_SKIP() << "fixture " << pre << "X.npy missing (needs scikit-learn)";
  const NpyArray x = load_npy(test::fixture_dir() / (pre + "X.npy"));
  const NpyArray y = load_npy(test::fixture_dir() / (pre + "y.npy"));
  const NpyArray xt = load_npy(test::fixture_dir() / (pre + "Xtest.npy"));
  const NpyArray means = load_npy(test::fixture_dir() / (pre + "means.npy"));
  const NpyArray coef = load_npy(test::fixture_dir() / (pre + "coef.npy"));
  const NpyArray icpt = load_npy(test::fixture_dir() / (pre + "intercept.npy"));
  const NpyArray proba = load_npy(test::fixture_dir() / (pre + "proba.npy"));
  const NpyArray proba_t = load_npy(test::fixture_dir() / (pre + "proba_test.npy"));
  const std::size_t n = x.shape[0], p = x.shape[1];
  const std::vector<int> labels = to_labels(y);
  const int k = *std::max_element(labels.begin(), labels.end()) + 1;
  std::vector<std::string> names;
  for (int i = 0; i < k; ++i) {
    std::string name = "c";  // not "c" + to_string(i): GCC 12 -O3 false -Wrestrict (PR 105329)
    name += std::to_string(i);
    names.push_back(name);
  }
  LdaOptions opt;
  opt.solver = c.solver;
  opt.shrinkage = c.shrinkage;
  opt.shrinkage_value = c.shrinkage_value;
  auto fitted = LdaClassifier::fit(x.data.data(), n, p, labels, names, {}, opt);
  ASSERT_TRUE(fitted.ok()) << fitted.error().message();
  LdaClassifier& lda = *fitted;

  EXPECT_LT(test::max_rel_error(lda.means().data(), means.data.data(), means.size(), 1e-3), tol_param);
  if (k == 2) {  // scikit-learn keeps one row: class 1 minus class 0
    std::vector<double> diff(p);
    for (std::size_t j = 0; j < p; ++j) diff[j] = lda.coef()[p + j] - lda.coef()[j];
    const double di = lda.intercept()[1] - lda.intercept()[0];
    EXPECT_LT(test::max_rel_error(diff.data(), coef.data.data(), p, 1e-3), tol_param);
    EXPECT_LT(test::max_rel_error(&di, icpt.data.data(), 1, 1e-3), tol_param);
  } else {
    EXPECT_LT(test::max_rel_error(lda.coef().data(), coef.data.data(), coef.size(), 1e-3), tol_param);
    EXPECT_LT(test::max_rel_error(lda.intercept().data(), icpt.data.data(), icpt.size(), 1e-3), tol_param);
  }
  std::vector<double> out(n * std::size_t(k));
  ASSERT_TRUE(lda.predict_proba(x.data.data(), n, p, out.data()).ok());
  for (std::size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], proba[i], tol) << c.name << " row " << i / k;
  const std::size_t nt = xt.shape[0];
  out.assign(nt * std::size_t(k), 0.0);
  ASSERT_TRUE(lda.predict_proba(xt.data.data(), nt, p, out.data()).ok());
  for (std::size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], proba_t[i], tol) << c.name << " test row " << i / k;
}

TEST(LdaClassifier, SvdSolverMatchesScikitLearnOnThreeClasses) { check_case({"svd3", LdaSolver::svd, LdaShrinkage::none, 0}, 1e-9, 1e-9); }
TEST(LdaClassifier, SvdSolverMatchesScikitLearnOnTwoClasses) { check_case({"svd2", LdaSolver::svd, LdaShrinkage::none, 0}, 1e-9, 1e-9); }
TEST(LdaClassifier, SingleTrainedClassAlwaysPredictsIt) { check_case({"svd1", LdaSolver::svd, LdaShrinkage::none, 0}, 1e-12, 1e-12); }
TEST(LdaClassifier, LsqrSolverMatchesScikitLearn) { check_case({"lsqr3", LdaSolver::lsqr, LdaShrinkage::none, 0}, 1e-9, 1e-7); }
TEST(LdaClassifier, LsqrLedoitWolfShrinkageMatchesScikitLearnAuto) {
  check_case({"lsqr3auto", LdaSolver::lsqr, LdaShrinkage::ledoit_wolf, 0}, 1e-9, 1e-7);
}
TEST(LdaClassifier, EigenLedoitWolfShrinkageMatchesScikitLearnAuto) {
  check_case({"eigen3auto", LdaSolver::eigen, LdaShrinkage::ledoit_wolf, 0}, 1e-9, 1e-9);
}
TEST(LdaClassifier, EigenFixedShrinkageMatchesScikitLearn) {
  check_case({"eigen3fixed", LdaSolver::eigen, LdaShrinkage::fixed, 0.3}, 1e-9, 1e-9);
}
TEST(LdaClassifier, SvdSolverMatchesScikitLearnOnRealHtdFeatures) {
  check_case({"real_svd", LdaSolver::svd, LdaShrinkage::none, 0}, 1e-9, 1e-9);
}
TEST(LdaClassifier, LsqrAutoMatchesScikitLearnOnRealHtdFeatures) {
  check_case({"real_lsqrauto", LdaSolver::lsqr, LdaShrinkage::ledoit_wolf, 0}, 1e-9, 1e-7);
}

/// Small synthetic 3-class problem (class 1 absent when `skip_class1`).
struct Toy {
  std::vector<double> x;
  std::vector<int> y;
  std::size_t n = 0, p = 3;
};
Toy make_toy(bool skip_class1, unsigned seed = 1) {
  Toy t;
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd;
  for (int c = 0; c < 3; ++c) {
    if (skip_class1 && c == 1) continue;
    for (int i = 0; i < 30; ++i) {
      for (std::size_t j = 0; j < t.p; ++j) t.x.push_back(nd(rng) + 3.0 * c * (j == std::size_t(c % 3)));
      t.y.push_back(c);
    }
  }
  t.n = t.y.size();
  return t;
}

TEST(LdaClassifier, ClassAbsentFromTrainingGetsZeroProbability) {
  Toy t = make_toy(true);
  auto m = LdaClassifier::fit(t.x.data(), t.n, t.p, t.y, {"a", "b", "c"});
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_FALSE(m->trained()[1]);
  std::vector<double> probs(t.n * 3);
  ASSERT_TRUE(m->predict_proba(t.x.data(), t.n, t.p, probs.data()).ok());
  for (std::size_t r = 0; r < t.n; ++r) {
    EXPECT_EQ(probs[r * 3 + 1], 0.0);
    EXPECT_NEAR(probs[r * 3] + probs[r * 3 + 2], 1.0, 1e-12);
  }
}

TEST(LdaClassifier, JsonRoundTripGivesBitIdenticalProbabilities) {
  Toy t = make_toy(true);
  auto m = LdaClassifier::fit(t.x.data(), t.n, t.p, t.y, {"gait", "sitting", "standing"}, {"f0", "f1", "f2"});
  ASSERT_TRUE(m.ok());
  const fs::path path = fs::temp_directory_path() / "myoexo_lda_roundtrip.json";
  ASSERT_TRUE(m->save(path).ok());
  auto back = LdaClassifier::load(path);
  fs::remove(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->class_names(), m->class_names());
  EXPECT_EQ(back->input_names(), m->input_names());
  EXPECT_EQ(back->trained(), m->trained());
  std::vector<double> a(t.n * 3), b(t.n * 3);
  ASSERT_TRUE(m->predict_proba(t.x.data(), t.n, t.p, a.data()).ok());
  ASSERT_TRUE(back->predict_proba(t.x.data(), t.n, t.p, b.data()).ok());
  EXPECT_EQ(a, b);
}

TEST(LdaClassifier, LoadRejectsMalformedFilesWithTypedErrors) {
  EXPECT_EQ(LdaClassifier::from_json("{not json").error().code, ErrorCode::parse);
  EXPECT_EQ(LdaClassifier::from_json(R"({"model":"cnn1d"})").error().code, ErrorCode::mismatch);
  Toy t = make_toy(false);
  auto m = LdaClassifier::fit(t.x.data(), t.n, t.p, t.y, {"a", "b", "c"});
  ASSERT_TRUE(m.ok());
  std::string text = m->to_json();
  // Drop one coefficient row entry: sizes disagree.
  auto j = text.find("\"coef\"");
  ASSERT_NE(j, std::string::npos);
  std::string broken = text;
  broken.replace(broken.find("\"n_inputs\": 3"), 13, "\"n_inputs\": 4");
  EXPECT_EQ(LdaClassifier::from_json(broken).error().code, ErrorCode::parse);
  EXPECT_EQ(LdaClassifier::load("/nonexistent/dir/model.json").error().code, ErrorCode::io);
}

TEST(LdaClassifier, FitRejectsBadInputWithoutThrowing) {
  Toy t = make_toy(false);
  std::vector<int> bad = t.y;
  bad[0] = 7;
  EXPECT_EQ(LdaClassifier::fit(t.x.data(), t.n, t.p, bad, {"a", "b", "c"}).error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(LdaClassifier::fit(t.x.data(), t.n, t.p, std::span<const int>(t.y).first(3), {"a", "b", "c"}).ok());
  LdaOptions svd_shrink;
  svd_shrink.shrinkage = LdaShrinkage::ledoit_wolf;
  EXPECT_FALSE(LdaClassifier::fit(t.x.data(), t.n, t.p, t.y, {"a", "b", "c"}, {}, svd_shrink).ok());
  std::vector<double> x = t.x;
  x[4] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(LdaClassifier::fit(x.data(), t.n, t.p, t.y, {"a", "b", "c"}).ok());
  EXPECT_FALSE(LdaClassifier::fit(t.x.data(), 0, t.p, {}, {"a"}).ok());
}

TEST(LdaClassifier, PredictRejectsWrongWidthAndNonFiniteRows) {
  Toy t = make_toy(false);
  auto m = LdaClassifier::fit(t.x.data(), t.n, t.p, t.y, {"a", "b", "c"});
  ASSERT_TRUE(m.ok());
  std::vector<double> probs(3 * 3);
  EXPECT_EQ(m->predict_proba(t.x.data(), 2, 4, probs.data()).error().code, ErrorCode::mismatch);
  std::vector<double> row = {1.0, std::numeric_limits<double>::infinity(), 0.0};
  EXPECT_FALSE(m->predict_proba(row.data(), 1, 3, probs.data()).ok());
  LdaClassifier empty;
  EXPECT_FALSE(empty.predict_proba(row.data(), 1, 3, probs.data()).ok());
}

TEST(LdaClassifier, PredictThroughInterfaceGivesArgmaxOfProbabilities) {
  Toy t = make_toy(false);
  auto m = LdaClassifier::fit(t.x.data(), t.n, t.p, t.y, {"a", "b", "c"});
  ASSERT_TRUE(m.ok());
  Classifier& c = *m;
  ASSERT_TRUE(c.reserve(t.n).ok());
  std::vector<double> probs(t.n * 3);
  std::vector<int> pred(t.n);
  ASSERT_TRUE(c.predict(t.x.data(), t.n, t.p, probs.data(), pred.data()).ok());
  int correct = 0;
  for (std::size_t i = 0; i < t.n; ++i) {
    const double* pr = probs.data() + i * 3;
    EXPECT_EQ(pred[i], std::max_element(pr, pr + 3) - pr);
    correct += pred[i] == t.y[i];
  }
  EXPECT_GT(correct, int(t.n) * 8 / 10);  // separable toy data
}

}  // namespace
}  // namespace myoexo::models
