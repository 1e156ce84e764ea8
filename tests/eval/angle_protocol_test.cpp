// Knee-angle protocols on synthetic recordings whose EMG amplitude follows a known knee angle.
#include "eval/angle_protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <set>

#include "eval/splits.hpp"
#include "features/features.hpp"
#include "synthetic_recordings.hpp"

namespace myoexo::eval {
namespace {

constexpr double kFs = 1000.0;
using synthetic::angle_at;
using synthetic::make_angle_recording;

std::vector<io::Recording> make_set(std::size_t n = 8000) {
  std::vector<io::Recording> recs;
  const char* subjects[] = {"1A", "2A", "1N", "2N"};
  const char* labels[] = {"gait", "sitting", "standing"};
  unsigned seed = 1;
  for (int s = 0; s < 4; ++s)
    for (int l = 0; l < 3; ++l)
      recs.push_back(make_angle_recording(subjects[s], labels[l], n, seed++, /*flexion_negative=*/s == 1, 0.3 * (s + l)));
  return recs;
}

AngleSpec test_spec() {
  AngleSpec spec;
  spec.data.exclude_files.clear();
  return spec;
}

RegressFn ridge() {
  auto fs = features::make_feature_spec("MAV,WL,RMS");
  EXPECT_TRUE(fs);
  LdaVariant v;
  v.log_amplitude = true;
  v.context_samples = 250;
  return make_ridge_regress(*fs, v, {.alpha = 1.0});
}

TEST(AngleProtocol, RidgeFollowsTheKneeAngleWithinAndAcrossSubjects) {
  const auto recs = make_set();
  const AngleSpec spec = test_spec();
  auto data = prepare_angle_data(recs, spec);
  ASSERT_TRUE(data) << data.error().message();
  auto r = run_angle_protocol(*data, spec, ridge());
  ASSERT_TRUE(r) << r.error().message();
  // Subject 2A's goniometer reads flexion-negative: its three files are negated, nobody else's.
  ASSERT_EQ(r->negated_recordings.size(), 3u);
  for (const auto& name : r->negated_recordings) EXPECT_EQ(name.substr(0, 2), "2A");
  // W and L, each pooled and per movement.
  ASSERT_EQ(r->protocols.size(), 8u);
  for (const auto& p : r->protocols) {
    SCOPED_TRACE(std::string(protocol_code(p.protocol)) + " " + p.scope);
    EXPECT_EQ(p.folds.size(), 4u);
    // The angle swings over ~70 deg (sd ~22): a model that tracks it is within a few degrees.
    EXPECT_LT(p.mean_rmse_deg, 5.0);
    EXPECT_LT(p.worst_nmae_pct, 9.0);
    EXPECT_GT(p.worst_r2, 0.9);
    EXPECT_GE(p.worst_rmse_deg, p.mean_rmse_deg);
  }
  // Pooled-scope traces: the estimates follow the goniometer of the negated subject too (flexion positive).
  bool saw_2a = false;
  for (const auto& t : r->traces) {
    if (t.fold != "2A") continue;
    saw_2a = true;
    for (double v : t.target_deg) EXPECT_GT(v, 0.0);
  }
  EXPECT_TRUE(saw_2a);
}

TEST(AngleProtocol, TargetsAreTheAngleAtTheWindowEndPlusTheLeadAndStayInsideTheirSegment) {
  const auto recs = make_set(6000);
  AngleSpec spec = test_spec();
  spec.target.lowpass_hz = 0;  // raw angle: the target is exactly angle_at(index)
  spec.lead_samples = 100;
  auto data = prepare_angle_data(recs, spec);
  ASSERT_TRUE(data);
  AngleRunOptions o;
  o.per_movement = false;
  auto r = run_angle_protocol(*data, spec, ridge(), o);
  ASSERT_TRUE(r);
  const std::size_t split = chronological_split_point(6000, spec.data.split_fraction);
  for (const auto& t : r->traces) {
    ASSERT_FALSE(t.t_s.empty());
    for (std::size_t i = 0; i < t.t_s.size(); ++i) {
      const std::size_t at = std::size_t(std::lround(t.t_s[i] * kFs));
      // Window ends land on (start + 249) with starts every 50: plus the 100-sample lead.
      EXPECT_EQ((at - 249 - 100) % 50, 0u);
      EXPECT_LT(at, 6000u);
      if (t.protocol == Protocol::within_subject) {
        EXPECT_GE(at, split + 249 + 100);  // a test window's target
      }
      const int s = t.recording[1] == 'A' ? (t.recording[0] == '1' ? 0 : 1) : (t.recording[0] == '1' ? 2 : 3);
      const int l = t.recording.ends_with("mar") ? 0 : t.recording.ends_with("sen") ? 1 : 2;
      EXPECT_NEAR(t.target_deg[i], angle_at(at, 0.3 * (s + l)), 1e-9) << t.recording << " sample " << at;
    }
  }
}

TEST(AngleProtocol, ConventionUnitAndMissingGoniometerAreRefusedWithTheFile) {
  auto recs = make_set(3000);
  AngleSpec spec = test_spec();
  spec.target.convention = AngleConvention::flexion_positive;
  auto bad = prepare_angle_data(recs, spec);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::mismatch);
  EXPECT_NE(bad.error().message().find("2A"), std::string::npos) << bad.error().message();
  EXPECT_NE(bad.error().message().find("flexion-negative"), std::string::npos);

  spec.target.convention = AngleConvention::flexion_negative;
  auto bad2 = prepare_angle_data(recs, spec);
  ASSERT_FALSE(bad2);
  EXPECT_NE(bad2.error().message().find("1A"), std::string::npos) << bad2.error().message();

  spec.target.convention = AngleConvention::detect;
  auto no_fx = recs;
  no_fx[4].channel_names[4] = "EXTRA";
  auto bad3 = prepare_angle_data(no_fx, spec);
  ASSERT_FALSE(bad3);
  EXPECT_NE(bad3.error().message().find("no knee-angle channel 'FX'"), std::string::npos) << bad3.error().message();
  EXPECT_NE(bad3.error().message().find(no_fx[4].source_path.string()), std::string::npos);

  auto mv = recs;
  mv[2].channel_units[4] = "mV";
  auto bad4 = prepare_angle_data(mv, spec);
  ASSERT_FALSE(bad4);
  EXPECT_NE(bad4.error().message().find("expected degrees"), std::string::npos);

  auto nan = recs;
  nan[0].samples[4 * nan[0].n_samples + 17] = std::numeric_limits<double>::quiet_NaN();
  auto bad5 = prepare_angle_data(nan, spec);
  ASSERT_FALSE(bad5);
  EXPECT_NE(bad5.error().message().find("sample 17"), std::string::npos);

  auto data = prepare_angle_data(recs, spec);
  ASSERT_TRUE(data);
  AngleRunOptions o;
  o.protocols = {Protocol::pooled};
  EXPECT_FALSE(run_angle_protocol(*data, spec, ridge(), o));
  o.protocols = {Protocol::within_subject};
  o.subjects = {"nobody"};
  EXPECT_FALSE(run_angle_protocol(*data, spec, ridge(), o));
}

// A model pooled over people joins a person's calibration: under W with the other subjects, every fold trains on
// the held-out subject's training part and every other subject's, and never on anyone's test part; L is unchanged.
TEST(AngleProtocol, WithTheOtherSubjectsTheirTrainingPartsJoinEachFoldAndNoTestPartDoes) {
  const auto recs = make_set(6000);
  const AngleSpec spec = test_spec();
  auto data = prepare_angle_data(recs, spec);
  ASSERT_TRUE(data);
  const std::size_t split = chronological_split_point(6000, spec.data.split_fraction);
  std::size_t folds = 0;
  RegressFn check = [&](const WindowSet& set, std::span<const std::size_t> train, std::span<const double>,
                        std::span<const std::size_t> test, std::span<double> est, const FoldContext& fold) -> Status {
    ++folds;
    const auto& names = set.data->subjects;
    const int person = int(std::find(names.begin(), names.end(), fold.name) - names.begin());
    std::set<int> train_subjects;
    for (std::size_t i : train) {
      const WindowRef& w = set.windows[i];
      train_subjects.insert(w.subject);
      if (fold.protocol == Protocol::within_subject) {
        EXPECT_LE(w.start + set.length, split) << fold.name << ": a test-part window in training";
      } else {
        EXPECT_NE(w.subject, person);
      }
    }
    EXPECT_EQ(train_subjects.size(), fold.protocol == Protocol::within_subject ? 4u : 3u);
    for (std::size_t i : test) {
      EXPECT_EQ(set.windows[i].subject, person);
      if (fold.protocol == Protocol::within_subject) EXPECT_GE(set.windows[i].start, split);
    }
    for (std::size_t k = 0; k < est.size(); ++k) est[k] = double(k);
    return {};
  };
  AngleRunOptions o;
  o.per_movement = false;
  o.w_other_subjects = true;
  auto r = run_angle_protocol(*data, spec, check, o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(folds, 8u);  // 4 subjects, W and L
}

#ifdef MYOEXO_HAVE_XGBOOST
// The person's trees (pooled with an indicator, mixed with their own) follow the knee angle under W with the
// other subjects and under L, where the pool has never met the person.
TEST(AngleProtocol, PersonTreesFollowTheKneeAngle) {
  const auto recs = make_set();
  const AngleSpec spec = test_spec();
  auto data = prepare_angle_data(recs, spec);
  ASSERT_TRUE(data);
  models::PersonTreeOptions po;
  po.pooled.rounds = 150;
  po.pooled.max_depth = 4;
  po.own.rounds = 100;
  AngleRunOptions o;
  o.per_movement = false;
  o.w_other_subjects = true;
  auto r = run_angle_protocol(*data, spec, make_person_tree_regress(models::LaggedEnvelope{}, po), o);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->protocols.size(), 2u);
  for (const auto& p : r->protocols) {
    SCOPED_TRACE(protocol_code(p.protocol));
    EXPECT_EQ(p.folds.size(), 4u);
    EXPECT_LT(p.mean_rmse_deg, 4.0);  // the angle swings over ~70 deg
    EXPECT_GT(p.worst_r2, 0.9);
  }
}
#endif

// UCI's subjects come in two groups (A: knee pathology, N: healthy): each group's means are its subjects' means.
TEST(AngleProtocol, GroupMeansAreTheMeansOfTheirSubjects) {
  EXPECT_EQ(uci_subject_group("11A"), "knee pathology");
  EXPECT_EQ(uci_subject_group("3N"), "healthy");
  EXPECT_EQ(uci_subject_group("P01"), "");
  EXPECT_EQ(uci_subject_group("A"), "");
  EXPECT_EQ(uci_subject_group("1X"), "");
  AngleEvaluation r;
  r.subjects = {"1A", "2A", "1N"};
  AngleProtocolScores p;
  p.scope = "sitting";
  for (const auto& [name, nmae] : {std::pair{"1A", 4.0}, std::pair{"2A", 8.0}, std::pair{"1N", 10.0}}) {
    AngleFoldScore f;
    f.name = name;
    f.nmae_pct = nmae;
    f.rmse_deg = 2 * nmae;
    f.r2 = 0.5;
    p.folds.push_back(f);
  }
  r.protocols.push_back(p);
  const auto g = angle_group_scores(r);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].group, "healthy");
  EXPECT_EQ(g[0].n_subjects, 1u);
  EXPECT_DOUBLE_EQ(g[0].mean_nmae_pct, 10.0);
  EXPECT_EQ(g[1].group, "knee pathology");
  EXPECT_EQ(g[1].n_subjects, 2u);
  EXPECT_DOUBLE_EQ(g[1].mean_nmae_pct, 6.0);
  EXPECT_DOUBLE_EQ(g[1].mean_rmse_deg, 12.0);
  EXPECT_NE(format_angle_groups(r).find("| W | sitting | knee pathology | 2 | 12.0 | 6.0 | 0.500 |"), std::string::npos)
      << format_angle_groups(r);
  EXPECT_EQ(angle_evaluation_to_json(r)["groups"].size(), 2u);
  // Another data set's ids: no groups, nothing written.
  r.subjects.push_back("P01");
  EXPECT_TRUE(angle_group_scores(r).empty());
  EXPECT_EQ(format_angle_groups(r), "");
  EXPECT_FALSE(angle_evaluation_to_json(r).contains("groups"));
}

TEST(AngleProtocol, ScoresAndHelpersGiveTheTextbookValues) {
  const std::vector<double> truth{0, 10, 20, 30}, est{1, 9, 22, 30};
  const AngleFoldScore s = angle_scores(truth, est);
  EXPECT_NEAR(s.rmse_deg, std::sqrt(6.0 / 4.0), 1e-12);
  EXPECT_NEAR(s.mae_deg, 1.0, 1e-12);
  EXPECT_NEAR(s.range_deg, 30.0, 1e-12);
  EXPECT_NEAR(s.nmae_pct, 100.0 / 30.0, 1e-12);
  EXPECT_NEAR(s.r2, 1.0 - 6.0 / 500.0, 1e-12);
  EXPECT_TRUE(std::isnan(angle_scores(std::vector<double>{5, 5}, std::vector<double>{5, 6}).r2));  // no variance

  std::vector<double> flex(1000), ext(1000), flat(1000, 3.0);
  for (std::size_t i = 0; i < 1000; ++i) {
    flex[i] = 60.0 * std::abs(std::sin(0.01 * double(i))) - 2.0;
    ext[i] = -flex[i];
  }
  EXPECT_EQ(detect_flexion_sign(flex), +1);
  EXPECT_EQ(detect_flexion_sign(ext), -1);
  EXPECT_EQ(detect_flexion_sign(flat), 0);

  // First-order smoothing: a step reaches 1 - e^-1 after one time constant and the first value passes.
  std::vector<double> step(21, 1.0);
  step[0] = 0.0;
  smooth_estimates(step, 0.05, 0.5);  // 10 steps per time constant
  EXPECT_EQ(step[0], 0.0);
  EXPECT_NEAR(step[10], 1.0 - std::exp(-1.0), 1e-12);
  EXPECT_TRUE(parse_angle_convention("flexion_negative"));
  EXPECT_FALSE(parse_angle_convention("sideways"));
}

}  // namespace
}  // namespace myoexo::eval
