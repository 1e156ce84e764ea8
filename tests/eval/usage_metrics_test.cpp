// The stream metrics of a decoder in use, on decision sequences whose every count is known by construction.
#include "eval/usage_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace myoexo::eval {
namespace {

constexpr int kRest = 0, kGait = 1, kLift = 2;

DecisionSequence sequence(std::vector<int> truth, std::vector<int> output, std::vector<std::uint8_t> rejected = {}) {
  DecisionSequence s;
  s.subject = "1";
  s.increment_s = 0.05;
  s.rest = kRest;
  s.truth = std::move(truth);
  s.output = std::move(output);
  s.rejected = std::move(rejected);
  return s;
}

TEST(UsageMetrics, CountsWhatAClinicianWouldSeeInOneStream) {
  // 1 s of rest, then gait: the output wrongly lifts once during rest, reaches gait 3 decisions after the onset,
  // flickers to lift once, and two decisions are rejected (they output rest).
  //            rest x 20                                   gait x 20
  std::vector<int> truth(20, kRest), output(20, kRest);
  std::vector<std::uint8_t> rejected(40, 0);
  output[5] = output[6] = kLift;  // one false activation (two decisions), two active errors
  truth.resize(40, kGait);
  output.resize(40, kGait);
  output[20] = output[21] = output[22] = kRest;  // the onset at decision 20 reached at 23: 0.15 s
  rejected[20] = rejected[21] = 1;
  output[30] = kLift;  // one active error, two changes
  const std::vector<DecisionSequence> seqs{sequence(truth, output, rejected)};
  const UsageMetrics m = compute_usage_metrics(seqs);
  EXPECT_EQ(m.decisions, 40u);
  EXPECT_DOUBLE_EQ(m.seconds, 2.0);
  EXPECT_EQ(m.active_errors, 3u);
  EXPECT_DOUBLE_EQ(m.active_error_rate, 3.0 / 40.0);
  EXPECT_EQ(m.rejections, 2u);
  EXPECT_DOUBLE_EQ(m.rejection_rate, 0.05);
  // Output changes: rest->lift (5), lift->rest (7), rest->gait (23), gait->lift (30), lift->gait (31).
  EXPECT_EQ(m.changes, 5u);
  EXPECT_DOUBLE_EQ(m.changes_per_s, 2.5);
  EXPECT_EQ(m.onsets, 1u);
  EXPECT_EQ(m.onsets_reached, 1u);
  EXPECT_NEAR(m.mean_onset_delay_s, 0.15, 1e-12);
  EXPECT_DOUBLE_EQ(m.rest_s, 1.0);
  EXPECT_EQ(m.false_activations, 1u);
  EXPECT_DOUBLE_EQ(m.false_activations_per_min, 60.0);
}

TEST(UsageMetrics, RecordingStartsAreOnsetsAndDataWithoutRestHaveNoFalseActivationRate) {
  // Two recordings of one movement each (per-file labels, as UCI): the first reaches its intent at once, the second
  // after 4 decisions, the third never.
  const std::vector<DecisionSequence> seqs{
      sequence({kGait, kGait, kGait}, {kGait, kGait, kGait}),
      sequence({kLift, kLift, kLift, kLift, kLift, kLift}, {kRest, kRest, kRest, kRest, kLift, kLift}),
      sequence({kLift, kLift}, {kGait, kGait})};
  const UsageMetrics m = compute_usage_metrics(seqs);
  EXPECT_EQ(m.onsets, 3u);
  EXPECT_EQ(m.onsets_reached, 2u);
  EXPECT_NEAR(m.mean_onset_delay_s, 0.1, 1e-12);  // (0 + 0.2) / 2
  EXPECT_NEAR(m.max_onset_delay_s, 0.2, 1e-12);
  EXPECT_EQ(m.active_errors, 2u);                 // the gait outputs of the third
  EXPECT_TRUE(std::isnan(m.false_activations_per_min));
  EXPECT_EQ(m.changes, 1u);                       // rest -> lift in the second; no change across recordings
  const auto j = usage_metrics_to_json(m);
  EXPECT_TRUE(j["false_activations_per_min"].is_null());
  EXPECT_EQ(j["onsets"], 3u);
}

TEST(UsageMetrics, UnknownTruthIsSkippedAndMismatchedSequencesIgnored) {
  std::vector<DecisionSequence> seqs{sequence({kGait, -1, kGait}, {kGait, kLift, kGait}),
                                     sequence({kGait, kGait}, {kGait})};
  const UsageMetrics m = compute_usage_metrics(seqs);
  EXPECT_EQ(m.decisions, 2u);
  EXPECT_EQ(m.active_errors, 0u);
  EXPECT_EQ(m.onsets, 2u);  // the truth is known again after the gap: a new onset, reached at once
  EXPECT_EQ(m.onsets_reached, 2u);
  const UsageMetrics none = compute_usage_metrics({});
  EXPECT_EQ(none.decisions, 0u);
  EXPECT_TRUE(std::isnan(none.active_error_rate));
}

}  // namespace
}  // namespace myoexo::eval
