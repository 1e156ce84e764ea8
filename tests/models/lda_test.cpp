#include "models/lda.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

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
  EXPECT_EQ(back->covariance(), m->covariance());
  EXPECT_EQ(back->covariance().size(), t.p * t.p);
  std::vector<double> a(t.n * 3), b(t.n * 3);
  ASSERT_TRUE(m->predict_proba(t.x.data(), t.n, t.p, a.data()).ok());
  ASSERT_TRUE(back->predict_proba(t.x.data(), t.n, t.p, b.data()).ok());
  EXPECT_EQ(a, b);
}

// A new person: the same classes, every feature offset by `shift` (electrodes placed elsewhere, another skin).
Toy shifted_person(double shift, unsigned seed) {
  Toy t = make_toy(false, seed);
  for (double& v : t.x) v += shift;
  return t;
}

double accuracy(LdaClassifier& m, const Toy& t) {
  std::vector<double> probs(t.n * 3);
  EXPECT_TRUE(m.predict_proba(t.x.data(), t.n, t.p, probs.data()).ok());
  std::size_t right = 0;
  for (std::size_t r = 0; r < t.n; ++r) {
    const double* q = probs.data() + r * 3;
    right += std::size_t(std::max_element(q, q + 3) - q) == std::size_t(t.y[r]);
  }
  return double(right) / double(t.n);
}

TEST(LdaClassifier, AdaptWithNoBaseWeightIsTheRefitOnThePersonsWindows) {
  const Toy base_data = make_toy(false, 1), person = shifted_person(1.5, 2);
  auto base = LdaClassifier::fit(base_data.x.data(), base_data.n, base_data.p, base_data.y, {"a", "b", "c"});
  ASSERT_TRUE(base.ok());
  auto adapted = base->adapt(person.x.data(), person.n, person.p, person.y, 0.0);
  ASSERT_TRUE(adapted.ok()) << adapted.error().message();
  LdaOptions lw;
  lw.solver = LdaSolver::lsqr;
  lw.shrinkage = LdaShrinkage::ledoit_wolf;
  auto refit = LdaClassifier::fit(person.x.data(), person.n, person.p, person.y, {"a", "b", "c"}, {}, lw);
  ASSERT_TRUE(refit.ok());
  ASSERT_EQ(adapted->coef().size(), refit->coef().size());
  for (std::size_t i = 0; i < refit->coef().size(); ++i) EXPECT_NEAR(adapted->coef()[i], refit->coef()[i], 1e-9);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(adapted->intercept()[k], refit->intercept()[k], 1e-9);
  for (std::size_t i = 0; i < refit->covariance().size(); ++i)
    EXPECT_NEAR(adapted->covariance()[i], refit->covariance()[i], 1e-12);
}

TEST(LdaClassifier, AdaptWithAHeavyBaseKeepsTheBasesDecisions) {
  const Toy base_data = make_toy(false, 1), person = shifted_person(1.5, 2);
  for (LdaSolver solver : {LdaSolver::svd, LdaSolver::lsqr, LdaSolver::eigen}) {
    SCOPED_TRACE(lda_solver_name(solver));
    LdaOptions o;
    o.solver = solver;
    auto base = LdaClassifier::fit(base_data.x.data(), base_data.n, base_data.p, base_data.y, {"a", "b", "c"}, {}, o);
    ASSERT_TRUE(base.ok());
    auto adapted = base->adapt(person.x.data(), person.n, person.p, person.y, 1e12);
    ASSERT_TRUE(adapted.ok()) << adapted.error().message();
    std::vector<double> a(person.n * 3), b(person.n * 3);
    ASSERT_TRUE(base->predict_proba(person.x.data(), person.n, person.p, a.data()).ok());
    ASSERT_TRUE(adapted->predict_proba(person.x.data(), person.n, person.p, b.data()).ok());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
  }
}

TEST(LdaClassifier, AdaptMovesTheMeansPartWayAndRecoversTheShiftedPerson) {
  const Toy base_data = make_toy(false, 1), person = shifted_person(1.5, 2), later = shifted_person(1.5, 3);
  auto base = LdaClassifier::fit(base_data.x.data(), base_data.n, base_data.p, base_data.y, {"a", "b", "c"});
  ASSERT_TRUE(base.ok());
  // 30 windows per class against a base weighing 30: each class mean moves half-way to the person's.
  auto adapted = base->adapt(person.x.data(), person.n, person.p, person.y, 30.0);
  ASSERT_TRUE(adapted.ok());
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t j = 0; j < 3; ++j) {
      double person_mean = 0;
      for (std::size_t r = 0; r < person.n; ++r)
        if (std::size_t(person.y[r]) == k) person_mean += person.x[r * 3 + j] / 30.0;
      EXPECT_NEAR(adapted->means()[k * 3 + j], 0.5 * (base->means()[k * 3 + j] + person_mean), 1e-12);
    }
  // Scored on other windows of the same person: the base misses the shift, the adapted model much less.
  const double before = accuracy(*base, later), after = accuracy(*adapted, later);
  EXPECT_LT(before, 0.85);
  EXPECT_GT(after, before + 0.05);
}

TEST(LdaClassifier, AdaptKeepsTheMeansOfClassesThePersonDidNotRecord) {
  const Toy base_data = make_toy(false, 1), person = make_toy(true, 2);  // no windows of class b
  auto base = LdaClassifier::fit(base_data.x.data(), base_data.n, base_data.p, base_data.y, {"a", "b", "c"});
  ASSERT_TRUE(base.ok());
  auto adapted = base->adapt(person.x.data(), person.n, person.p, person.y, 10.0);
  ASSERT_TRUE(adapted.ok());
  EXPECT_TRUE(adapted->trained()[1]);
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(adapted->means()[3 + j], base->means()[3 + j]);
    EXPECT_NE(adapted->means()[j], base->means()[j]);
  }
}

TEST(LdaClassifier, AdaptRefusesWhatItCannotUse) {
  const Toy base_data = make_toy(true, 1), person = make_toy(false, 2);
  auto base = LdaClassifier::fit(base_data.x.data(), base_data.n, base_data.p, base_data.y, {"a", "b", "c"});
  ASSERT_TRUE(base.ok());
  // Class b was not in the base's training data: the adapted discriminant would have no base to move from.
  auto r = base->adapt(person.x.data(), person.n, person.p, person.y, 10.0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message().find("'b'"), std::string::npos) << r.error().message();
  const Toy ac = make_toy(true, 3);
  EXPECT_EQ(base->adapt(ac.x.data(), ac.n, 2, ac.y, 10.0).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(base->adapt(ac.x.data(), ac.n, ac.p, ac.y, -1.0).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(base->adapt(ac.x.data(), ac.n, ac.p, ac.y, std::nan("")).error().code, ErrorCode::invalid_argument);
  std::vector<double> bad = ac.x;
  bad[4] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(base->adapt(bad.data(), ac.n, ac.p, ac.y, 10.0).error().code, ErrorCode::invalid_argument);
  // A file without the covariance (as written before it was kept) loads, predicts, and refuses to adapt.
  auto j = nlohmann::json::parse(base->to_json());
  j.erase("covariance");
  auto old = LdaClassifier::from_json(j.dump());
  ASSERT_TRUE(old.ok()) << old.error().message();
  EXPECT_EQ(old->adapt(ac.x.data(), ac.n, ac.p, ac.y, 10.0).error().code, ErrorCode::unsupported);
  // A damaged covariance is a parse error.
  j = nlohmann::json::parse(base->to_json());
  j["covariance"] = std::vector<double>{1.0, 2.0};
  EXPECT_EQ(LdaClassifier::from_json(j.dump()).error().code, ErrorCode::parse);
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
  // Sizes that would wrap or ask for terabytes: a typed parse error naming the field, never an exception.
  for (const char* n : {"-1", "1000000000000", "2.5"}) {
    broken = text;
    broken.replace(broken.find("\"n_inputs\": 3"), 13, std::string("\"n_inputs\": ") + n);
    const auto r = LdaClassifier::from_json(broken);
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code, ErrorCode::parse) << n;
    EXPECT_NE(r.error().message().find("n_inputs"), std::string::npos) << r.error().message();
  }
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
