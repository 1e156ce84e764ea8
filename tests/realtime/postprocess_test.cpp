#include "realtime/postprocess.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace myoexo::realtime {
namespace {

using control::IntentLabel;

IntentPostProcessor make(double threshold, std::size_t vote, std::size_t dwell) {
  PostProcessOptions o;
  o.rejection_threshold = threshold;
  o.vote_window = vote;
  o.min_dwell = dwell;
  return IntentPostProcessor::create(o, {IntentLabel::rest, IntentLabel::gait, IntentLabel::lift}).value();
}

TEST(IntentPostProcessor, BadOptionsAreRejected) {
  PostProcessOptions o;
  o.rejection_threshold = 1.5;
  EXPECT_FALSE(IntentPostProcessor::create(o, {IntentLabel::rest}).ok());
  o = {};
  o.vote_window = 0;
  EXPECT_FALSE(IntentPostProcessor::create(o, {IntentLabel::rest}).ok());
  o = {};
  o.min_dwell = 0;
  EXPECT_FALSE(IntentPostProcessor::create(o, {IntentLabel::rest}).ok());
  EXPECT_FALSE(IntentPostProcessor::create({}, {}).ok());
}

TEST(IntentPostProcessor, LowConfidenceBecomesRestWithTheRestMass) {
  auto p = make(0.9, 1, 1);
  const std::vector<double> unsure{0.15, 0.8, 0.05};
  const auto d = p.step(unsure);
  EXPECT_TRUE(d.rejected);
  EXPECT_EQ(d.label, IntentLabel::rest);
  EXPECT_DOUBLE_EQ(d.confidence, 0.15);
  const std::vector<double> sure{0.02, 0.95, 0.03};
  const auto e = p.step(sure);
  EXPECT_FALSE(e.rejected);
  EXPECT_EQ(e.label, IntentLabel::gait);
  EXPECT_DOUBLE_EQ(e.confidence, 0.95);
}

TEST(IntentPostProcessor, InvalidInputIsARejection) {
  auto p = make(0.5, 1, 1);
  const std::vector<double> sure{0.0, 1.0, 0.0};
  const auto d = p.step(sure, /*valid=*/false);
  EXPECT_TRUE(d.rejected);
  EXPECT_EQ(d.label, IntentLabel::rest);
}

TEST(IntentPostProcessor, MajorityVoteSuppressesASingleOutlier) {
  auto p = make(0.5, 3, 1);
  const std::vector<double> gait{0, 1, 0}, lift{0, 0, 1};
  EXPECT_EQ(p.step(gait).label, IntentLabel::gait);
  EXPECT_EQ(p.step(gait).label, IntentLabel::gait);
  EXPECT_EQ(p.step(lift).label, IntentLabel::gait);  // 2 gait vs 1 lift
  EXPECT_EQ(p.step(lift).label, IntentLabel::lift);  // 1 gait vs 2 lift
}

TEST(IntentPostProcessor, VoteTiesGoToTheNewestLabel) {
  auto p = make(0.5, 2, 1);
  const std::vector<double> gait{0, 1, 0}, lift{0, 0, 1};
  EXPECT_EQ(p.step(gait).label, IntentLabel::gait);
  EXPECT_EQ(p.step(lift).label, IntentLabel::lift);  // 1:1, lift is newer
}

TEST(IntentPostProcessor, MinimumDwellDelaysTheSwitch) {
  auto p = make(0.5, 1, 3);
  const std::vector<double> gait{0, 1, 0}, rest{1, 0, 0};
  EXPECT_EQ(p.step(gait).label, IntentLabel::rest);
  EXPECT_EQ(p.step(gait).label, IntentLabel::rest);
  EXPECT_EQ(p.step(gait).label, IntentLabel::gait);  // third consecutive vote
  EXPECT_EQ(p.step(rest).label, IntentLabel::gait);
  EXPECT_EQ(p.step(gait).label, IntentLabel::gait);  // interruption resets the candidate
  const auto d = p.step(rest);
  EXPECT_EQ(d.label, IntentLabel::gait);
  EXPECT_DOUBLE_EQ(d.confidence, 0.0);  // gait has no vote in the (size 1) window
}

TEST(IntentPostProcessor, ResetReturnsToRest) {
  auto p = make(0.5, 1, 1);
  const std::vector<double> gait{0, 1, 0}, rest{1, 0, 0};
  EXPECT_EQ(p.step(gait).label, IntentLabel::gait);
  p.reset();
  EXPECT_EQ(p.step(rest).label, IntentLabel::rest);
}

TEST(MapClassesToIntents, NamesAndAliasesMapUnknownNamesFail) {
  const std::vector<std::pair<std::string, std::string>> aliases{{"standing", "lift"}, {"sitting", "lower"}};
  auto m = map_classes_to_intents({"gait", "standing", "sitting"}, aliases);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)[0], IntentLabel::gait);
  EXPECT_EQ((*m)[1], IntentLabel::lift);
  EXPECT_EQ((*m)[2], IntentLabel::lower);
  EXPECT_FALSE(map_classes_to_intents({"gait", "jump"}).ok());
}

}  // namespace
}  // namespace myoexo::realtime
