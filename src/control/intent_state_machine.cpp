#include "control/intent_state_machine.hpp"

#include <cmath>

namespace myoexo::control {

namespace {
constexpr std::size_t idx(IntentLabel l) { return static_cast<std::size_t>(l); }
bool valid_label(IntentLabel l) { return static_cast<int>(l) >= 0 && static_cast<std::size_t>(l) < kIntentLabelCount; }
}  // namespace

IntentStateMachineSpec default_intent_state_machine_spec() noexcept {
  using L = IntentLabel;
  IntentStateMachineSpec spec;
  auto allow = [&](L from, std::initializer_list<L> to) {
    for (L t : to) spec.allowed[idx(from)][idx(t)] = true;
  };
  allow(L::rest, {L::lift, L::lower, L::gait, L::hold});
  allow(L::lift, {L::rest, L::lower, L::hold});
  allow(L::lower, {L::rest, L::lift, L::hold});
  allow(L::gait, {L::rest, L::hold});
  allow(L::hold, {L::rest, L::lift, L::lower, L::gait});
  return spec;
}

const char* transition_outcome_name(TransitionOutcome outcome) noexcept {
  switch (outcome) {
    case TransitionOutcome::accepted: return "accepted";
    case TransitionOutcome::unchanged: return "unchanged";
    case TransitionOutcome::disallowed: return "disallowed";
    case TransitionOutcome::dwell: return "dwell";
    case TransitionOutcome::low_confidence: return "low_confidence";
    case TransitionOutcome::invalid: return "invalid";
    case TransitionOutcome::awaiting_change: return "awaiting_change";
  }
  return "unknown";
}

Result<IntentStateMachine> IntentStateMachine::create(const IntentStateMachineSpec& spec) {
  if (!std::isfinite(spec.min_dwell_s) || spec.min_dwell_s < 0.0)
    return make_error(ErrorCode::invalid_argument, "IntentStateMachine: min_dwell_s must be finite and >= 0");
  if (!(spec.min_confidence >= 0.0 && spec.min_confidence <= 1.0))
    return make_error(ErrorCode::invalid_argument, "IntentStateMachine: min_confidence must be in [0, 1]");
  if (!valid_label(spec.initial))
    return make_error(ErrorCode::invalid_argument, "IntentStateMachine: initial label out of range");
  return IntentStateMachine(spec);
}

TransitionOutcome IntentStateMachine::update(const Intent& intent, double t_s) noexcept {
  auto count = [&](TransitionOutcome o) {
    ++counts_[static_cast<std::size_t>(o)];
    return o;
  };
  if (!valid_label(intent.label) || !std::isfinite(t_s)) return count(TransitionOutcome::invalid);
  if (!std::isfinite(intent.confidence) || intent.confidence < spec_.min_confidence)
    return count(TransitionOutcome::low_confidence);
  last_offered_ = intent.label;
  if (awaiting_change_) {
    if (intent.label == blocked_) return count(TransitionOutcome::awaiting_change);
    awaiting_change_ = false;  // the user asked for something else: the block is over
  }
  if (intent.label == active_) return count(TransitionOutcome::unchanged);
  if (!spec_.allowed[idx(active_)][idx(intent.label)]) return count(TransitionOutcome::disallowed);
  if (t_s - since_s_ < spec_.min_dwell_s) return count(TransitionOutcome::dwell);
  active_ = intent.label;
  since_s_ = t_s;
  return count(TransitionOutcome::accepted);
}

void IntentStateMachine::force(IntentLabel label, double t_s) noexcept {
  if (!valid_label(label)) return;
  if (label != active_) {
    active_ = label;
    since_s_ = t_s;
  }
}

void IntentStateMachine::hold_until_change(double t_s) noexcept {
  force(IntentLabel::hold, t_s);
  awaiting_change_ = true;
  blocked_ = last_offered_;
}

void IntentStateMachine::reset(double t_s) noexcept {
  active_ = spec_.initial;
  since_s_ = t_s;
  awaiting_change_ = false;
  blocked_ = IntentLabel::hold;
  last_offered_ = IntentLabel::hold;
  counts_ = {};
}

}  // namespace myoexo::control
