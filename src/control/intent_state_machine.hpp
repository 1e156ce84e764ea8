// myoexo::control — which intent the exoskeleton acts on: a transition table, a minimum dwell and a confidence gate.
#pragma once

#include <array>
#include <cstdint>

#include "control/intent.hpp"
#include "core/error.hpp"

namespace myoexo::control {

/// The rules. `allowed[from][to]` says whether an intent `to` may follow the active intent `from` (indices are
/// IntentLabel values). Staying in the same intent is always allowed and does not restart the dwell.
struct IntentStateMachineSpec {
  std::array<std::array<bool, kIntentLabelCount>, kIntentLabelCount> allowed{};
  double min_dwell_s = 0.3;       ///< an active intent lasts at least this long before another is accepted [s], >= 0
  double min_confidence = 0.0;    ///< intents below this confidence are ignored, in [0, 1]
  IntentLabel initial = IntentLabel::rest;
};

/// The default table (rows = from, columns = to):
///   rest  -> lift, lower, gait, hold      (anything may start from rest)
///   lift  -> rest, lower, hold            (no gait while the leg is lifted: lower first)
///   lower -> rest, lift, hold
///   gait  -> rest, hold                   (leave gait only by stopping; then lower/lift)
///   hold  -> rest, lift, lower, gait
/// min_dwell 0.3 s, min_confidence 0.
IntentStateMachineSpec default_intent_state_machine_spec() noexcept;

/// Why an intent was or was not taken.
enum class TransitionOutcome : int {
  accepted = 0,        ///< the active intent changed
  unchanged = 1,       ///< same as the active intent
  disallowed = 2,      ///< the table forbids it
  dwell = 3,           ///< the active intent has not lasted min_dwell_s yet
  low_confidence = 4,  ///< below min_confidence or not finite
  invalid = 5,         ///< label out of range or non-finite time
  awaiting_change = 6, ///< after a hold: the same label as when the hold began; ignored until the intent changes
};
inline constexpr std::size_t kTransitionOutcomeCount = 7;
const char* transition_outcome_name(TransitionOutcome outcome) noexcept;

/// Streaming state machine; one per exoskeleton. update() is real-time safe (no allocation).
class IntentStateMachine {
 public:
  /// Validates the spec (dwell >= 0 and finite, confidence in [0, 1], initial label valid).
  static Result<IntentStateMachine> create(const IntentStateMachineSpec& spec);

  /// Offer an intent observed at time t_s [s] (monotonic). Returns what happened; active() tells the result.
  TransitionOutcome update(const Intent& intent, double t_s) noexcept;
  /// Force an intent regardless of table and dwell (UI override). Does not block anything afterwards.
  void force(IntentLabel label, double t_s) noexcept;
  /// The supervisor held (fault, watchdog, e-stop): force `hold` and block the label of the last offered intent
  /// (the one the user was asking for when the hold began, or kept asking for during it) until an offered intent
  /// with a different label arrives — so a decoder still emitting `lift` after the fault clears does not restart
  /// the motion; the user has to ask again (e.g. `rest` then `lift`). Call it on every held tick; the block
  /// follows the latest offered label. resume() lifts it explicitly.
  void hold_until_change(double t_s) noexcept;
  /// Explicit resume (UI button): lift the block of hold_until_change(); the blocked label may be accepted at once.
  void resume() noexcept { awaiting_change_ = false; }
  /// Back to the initial intent at time t_s; counters and any hold_until_change() block cleared.
  void reset(double t_s = 0.0) noexcept;

  IntentLabel active() const noexcept { return active_; }
  double active_since_s() const noexcept { return since_s_; }
  /// True while hold_until_change() blocks blocked_label().
  bool awaiting_change() const noexcept { return awaiting_change_; }
  IntentLabel blocked_label() const noexcept { return blocked_; }
  /// Number of offered intents per outcome (index = TransitionOutcome value).
  const std::array<std::uint64_t, kTransitionOutcomeCount>& outcome_counts() const noexcept { return counts_; }
  const IntentStateMachineSpec& spec() const noexcept { return spec_; }

 private:
  explicit IntentStateMachine(const IntentStateMachineSpec& spec) : spec_(spec) { reset(0.0); }
  IntentStateMachineSpec spec_;
  IntentLabel active_ = IntentLabel::rest;
  double since_s_ = 0.0;
  bool awaiting_change_ = false;
  IntentLabel blocked_ = IntentLabel::hold;       // meaningful while awaiting_change_
  IntentLabel last_offered_ = IntentLabel::hold;  // label of the last valid offer ("hold" = none yet)
  std::array<std::uint64_t, kTransitionOutcomeCount> counts_{};
};

}  // namespace myoexo::control
