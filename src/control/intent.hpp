// myoexo::control — the movement intent: what the EMG pipeline (realtime stage) emits and the controller consumes.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace myoexo::control {

/// What the user wants the exoskeleton to do. The classifier's classes map onto these.
///  - rest:  no movement intent (also what a rejected, low-confidence decision becomes): hold the current posture.
///  - lift:  flex hip and knee to the lift target (step-up / leg raise).
///  - lower: return to the neutral (standing) posture.
///  - gait:  a cyclic hip-knee walking pattern.
///  - hold:  an explicit freeze (button, UI or supervisor); same motion as rest, its own row in the transition table.
enum class IntentLabel : int { rest = 0, lift = 1, lower = 2, gait = 3, hold = 4 };

inline constexpr std::size_t kIntentLabelCount = 5;

/// "rest", "lift", "lower", "gait", "hold".
const char* intent_label_name(IntentLabel label) noexcept;
/// Inverse of intent_label_name (exact, lower case); nullopt for anything else.
std::optional<IntentLabel> parse_intent_label(std::string_view name) noexcept;

/// One decision of the intent pipeline.
struct Intent {
  IntentLabel label = IntentLabel::rest;
  double confidence = 0.0;    ///< posterior of `label` in [0, 1] (after rejection / voting)
  double window_end_s = 0.0;  ///< time of the last sample of the window the decision was made on [s]
  double emit_s = 0.0;        ///< time the decision left the pipeline [s]; the watchdog measures freshness from it
};

}  // namespace myoexo::control
