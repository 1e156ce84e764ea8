#include "control/intent.hpp"

namespace myoexo::control {

const char* intent_label_name(IntentLabel label) noexcept {
  switch (label) {
    case IntentLabel::rest: return "rest";
    case IntentLabel::lift: return "lift";
    case IntentLabel::lower: return "lower";
    case IntentLabel::gait: return "gait";
    case IntentLabel::hold: return "hold";
  }
  return "unknown";
}

std::optional<IntentLabel> parse_intent_label(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kIntentLabelCount; ++i) {
    const auto label = static_cast<IntentLabel>(i);
    if (name == intent_label_name(label)) return label;
  }
  return std::nullopt;
}

}  // namespace myoexo::control
