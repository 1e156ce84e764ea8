#include "eval/usage_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace myoexo::eval {

UsageMetrics compute_usage_metrics(std::span<const DecisionSequence> sequences) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  UsageMetrics m;
  double delay_sum = 0.0, delay_max = 0.0;
  for (const DecisionSequence& s : sequences) {
    const std::size_t n = s.truth.size();
    if (s.output.size() != n || (!s.rejected.empty() && s.rejected.size() != n) || !(s.increment_s > 0)) continue;
    bool have_prev = false;
    int prev_out = s.rest, prev_truth = -1;
    // The movement onset being waited for: its decision index and intent (-1 = none pending).
    std::size_t onset_at = 0;
    int onset_intent = -1;
    for (std::size_t i = 0; i < n; ++i) {
      const int truth = s.truth[i], out = s.output[i];
      if (truth < 0) {  // unknown truth: nothing scored, and a pending onset is abandoned
        onset_intent = -1;
        prev_truth = -1;
        have_prev = false;
        continue;
      }
      ++m.decisions;
      m.seconds += s.increment_s;
      if (!s.rejected.empty() && s.rejected[i]) ++m.rejections;
      if (out != s.rest && out != truth) ++m.active_errors;
      if (have_prev && out != prev_out) ++m.changes;
      if (truth == s.rest) {
        m.rest_s += s.increment_s;
        if (out != s.rest && (!have_prev || prev_out == s.rest)) ++m.false_activations;
      }
      if (truth != prev_truth) {
        onset_intent = -1;
        if (truth != s.rest) {  // a movement onset
          ++m.onsets;
          onset_at = i;
          onset_intent = truth;
        }
      }
      if (onset_intent >= 0 && out == onset_intent) {
        const double d = double(i - onset_at) * s.increment_s;
        ++m.onsets_reached;
        delay_sum += d;
        delay_max = std::max(delay_max, d);
        onset_intent = -1;
      }
      prev_truth = truth;
      prev_out = out;
      have_prev = true;
    }
  }
  const double nd = double(m.decisions);
  m.active_error_rate = m.decisions ? double(m.active_errors) / nd : nan;
  m.rejection_rate = m.decisions ? double(m.rejections) / nd : nan;
  m.changes_per_s = m.seconds > 0 ? double(m.changes) / m.seconds : nan;
  m.mean_onset_delay_s = m.onsets_reached ? delay_sum / double(m.onsets_reached) : nan;
  m.max_onset_delay_s = m.onsets_reached ? delay_max : nan;
  m.false_activations_per_min = m.rest_s > 0 ? double(m.false_activations) / (m.rest_s / 60.0) : nan;
  return m;
}

nlohmann::json usage_metrics_to_json(const UsageMetrics& m) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  return {{"decisions", m.decisions},
          {"seconds", num(m.seconds)},
          {"active_error_rate", num(m.active_error_rate)},
          {"rejection_rate", num(m.rejection_rate)},
          {"changes_per_s", num(m.changes_per_s)},
          {"onsets", m.onsets},
          {"onsets_reached", m.onsets_reached},
          {"mean_onset_delay_s", num(m.mean_onset_delay_s)},
          {"max_onset_delay_s", num(m.max_onset_delay_s)},
          {"rest_s", num(m.rest_s)},
          {"false_activations", m.false_activations},
          {"false_activations_per_min", num(m.false_activations_per_min)}};
}

}  // namespace myoexo::eval
