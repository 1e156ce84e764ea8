#include "control/intent_state_machine.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace myoexo::control {
namespace {

Intent make_intent(IntentLabel label, double t, double confidence = 0.95) { return Intent{label, confidence, t, t}; }

IntentStateMachine make_machine(double dwell = 0.3) {
  auto spec = default_intent_state_machine_spec();
  spec.min_dwell_s = dwell;
  return IntentStateMachine::create(spec).value();
}

TEST(IntentStateMachine, StartsAtRestAndAcceptsAllowedTransition) {
  auto sm = make_machine();
  EXPECT_EQ(sm.active(), IntentLabel::rest);
  EXPECT_EQ(sm.update(make_intent(IntentLabel::lift, 1.0), 1.0), TransitionOutcome::accepted);
  EXPECT_EQ(sm.active(), IntentLabel::lift);
  EXPECT_DOUBLE_EQ(sm.active_since_s(), 1.0);
}

TEST(IntentStateMachine, DisallowedTransitionIsIgnored) {
  auto sm = make_machine(0.0);
  ASSERT_EQ(sm.update(make_intent(IntentLabel::lift, 1.0), 1.0), TransitionOutcome::accepted);
  // Default table: no gait while the leg is lifted.
  EXPECT_EQ(sm.update(make_intent(IntentLabel::gait, 2.0), 2.0), TransitionOutcome::disallowed);
  EXPECT_EQ(sm.active(), IntentLabel::lift);
  EXPECT_EQ(sm.outcome_counts()[static_cast<std::size_t>(TransitionOutcome::disallowed)], 1u);
}

TEST(IntentStateMachine, MinimumDwellDelaysTheNextChange) {
  auto sm = make_machine(0.3);
  ASSERT_EQ(sm.update(make_intent(IntentLabel::lift, 1.0), 1.0), TransitionOutcome::accepted);
  EXPECT_EQ(sm.update(make_intent(IntentLabel::lower, 1.2), 1.2), TransitionOutcome::dwell);
  EXPECT_EQ(sm.active(), IntentLabel::lift);
  EXPECT_EQ(sm.update(make_intent(IntentLabel::lower, 1.31), 1.31), TransitionOutcome::accepted);
  EXPECT_EQ(sm.active(), IntentLabel::lower);
}

TEST(IntentStateMachine, RepeatedIntentDoesNotRestartDwell) {
  auto sm = make_machine(0.3);
  ASSERT_EQ(sm.update(make_intent(IntentLabel::lift, 1.0), 1.0), TransitionOutcome::accepted);
  EXPECT_EQ(sm.update(make_intent(IntentLabel::lift, 1.2), 1.2), TransitionOutcome::unchanged);
  EXPECT_DOUBLE_EQ(sm.active_since_s(), 1.0);
}

TEST(IntentStateMachine, LowConfidenceAndNanAreRejected) {
  auto spec = default_intent_state_machine_spec();
  spec.min_confidence = 0.9;
  auto sm = IntentStateMachine::create(spec).value();
  EXPECT_EQ(sm.update(make_intent(IntentLabel::lift, 1.0, 0.5), 1.0), TransitionOutcome::low_confidence);
  EXPECT_EQ(sm.update(make_intent(IntentLabel::lift, 1.0, std::nan("")), 1.0), TransitionOutcome::low_confidence);
  EXPECT_EQ(sm.update(Intent{static_cast<IntentLabel>(17), 1.0, 1.0, 1.0}, 1.0), TransitionOutcome::invalid);
  EXPECT_EQ(sm.active(), IntentLabel::rest);
}

TEST(IntentStateMachine, CustomTableIsHonoured) {
  IntentStateMachineSpec spec;  // nothing allowed
  spec.min_dwell_s = 0.0;
  spec.allowed[0][3] = true;  // rest -> gait only
  auto sm = IntentStateMachine::create(spec).value();
  EXPECT_EQ(sm.update(make_intent(IntentLabel::lift, 1.0), 1.0), TransitionOutcome::disallowed);
  EXPECT_EQ(sm.update(make_intent(IntentLabel::gait, 1.0), 1.0), TransitionOutcome::accepted);
  EXPECT_EQ(sm.update(make_intent(IntentLabel::rest, 2.0), 2.0), TransitionOutcome::disallowed);
}

TEST(IntentStateMachine, ForceOverridesTableAndResetRestores) {
  auto sm = make_machine();
  sm.force(IntentLabel::hold, 0.5);
  EXPECT_EQ(sm.active(), IntentLabel::hold);
  sm.reset(2.0);
  EXPECT_EQ(sm.active(), IntentLabel::rest);
  EXPECT_DOUBLE_EQ(sm.active_since_s(), 2.0);
}

TEST(IntentStateMachine, AfterAHoldTheSameIntentIsIgnoredUntilTheIntentChanges) {
  auto sm = make_machine();
  ASSERT_EQ(sm.update(make_intent(IntentLabel::lift, 1.0), 1.0), TransitionOutcome::accepted);
  sm.hold_until_change(1.5);  // the supervisor held while the user was asking for lift
  EXPECT_EQ(sm.active(), IntentLabel::hold);
  EXPECT_TRUE(sm.awaiting_change());
  EXPECT_EQ(sm.blocked_label(), IntentLabel::lift);
  // The decoder keeps emitting lift after the cause is gone: ignored, however long (no automatic restart).
  for (int k = 0; k < 60; ++k) {
    const double t = 2.0 + 0.05 * k;
    ASSERT_EQ(sm.update(make_intent(IntentLabel::lift, t), t), TransitionOutcome::awaiting_change);
  }
  EXPECT_EQ(sm.active(), IntentLabel::hold);
  // The user asks again: rest, then lift.
  EXPECT_EQ(sm.update(make_intent(IntentLabel::rest, 5.0), 5.0), TransitionOutcome::accepted);
  EXPECT_FALSE(sm.awaiting_change());
  EXPECT_EQ(sm.update(make_intent(IntentLabel::lift, 5.5), 5.5), TransitionOutcome::accepted);
  EXPECT_EQ(sm.outcome_counts()[static_cast<std::size_t>(TransitionOutcome::awaiting_change)], 60u);
}

TEST(IntentStateMachine, ExplicitResumeLiftsTheBlock) {
  auto sm = make_machine();
  ASSERT_EQ(sm.update(make_intent(IntentLabel::gait, 1.0), 1.0), TransitionOutcome::accepted);
  sm.hold_until_change(1.5);
  EXPECT_EQ(sm.update(make_intent(IntentLabel::gait, 2.0), 2.0), TransitionOutcome::awaiting_change);
  sm.resume();
  EXPECT_EQ(sm.update(make_intent(IntentLabel::gait, 2.1), 2.1), TransitionOutcome::accepted);
  // force() (a UI override) does not block anything.
  sm.force(IntentLabel::hold, 3.0);
  EXPECT_FALSE(sm.awaiting_change());
  EXPECT_EQ(sm.update(make_intent(IntentLabel::gait, 3.5), 3.5), TransitionOutcome::accepted);
}

TEST(IntentStateMachine, BadSpecIsRefused) {
  auto spec = default_intent_state_machine_spec();
  spec.min_dwell_s = -1.0;
  EXPECT_FALSE(IntentStateMachine::create(spec).ok());
  spec = default_intent_state_machine_spec();
  spec.min_confidence = 1.5;
  EXPECT_FALSE(IntentStateMachine::create(spec).ok());
}

TEST(Intent, LabelNamesRoundTrip) {
  for (std::size_t i = 0; i < kIntentLabelCount; ++i) {
    const auto label = static_cast<IntentLabel>(i);
    auto parsed = parse_intent_label(intent_label_name(label));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, label);
  }
  EXPECT_FALSE(parse_intent_label("jump").has_value());
}

}  // namespace
}  // namespace myoexo::control
