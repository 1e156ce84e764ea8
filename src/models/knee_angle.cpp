// The knee-angle target: channel lookup, unit and sign checks, zero-phase smoothing.
#include "models/knee_angle.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/butterworth.hpp"
#include "dsp/sos_filter.hpp"

namespace myoexo::models {

const char* angle_convention_name(AngleConvention c) noexcept {
  switch (c) {
    case AngleConvention::detect: return "detect";
    case AngleConvention::flexion_positive: return "flexion_positive";
    case AngleConvention::flexion_negative: return "flexion_negative";
  }
  return "?";
}

Result<AngleConvention> parse_angle_convention(std::string_view text) {
  if (text == "detect" || text == "auto") return AngleConvention::detect;
  if (text == "flexion_positive" || text == "flexion-positive") return AngleConvention::flexion_positive;
  if (text == "flexion_negative" || text == "flexion-negative") return AngleConvention::flexion_negative;
  return make_error(ErrorCode::invalid_argument, "angle convention '" + std::string(text) +
                                                     "': expected detect, flexion_positive or flexion_negative");
}

int detect_flexion_sign(std::span<const double> angle_deg) {
  std::vector<double> v;
  v.reserve(angle_deg.size());
  for (double a : angle_deg)
    if (std::isfinite(a)) v.push_back(a);
  if (v.size() < 10) return 0;
  std::sort(v.begin(), v.end());
  const double lo = v[std::size_t(0.02 * double(v.size() - 1))];
  const double hi = v[std::size_t(0.98 * double(v.size() - 1))];
  if (hi - lo < 5.0 || std::abs(std::abs(hi) - std::abs(lo)) < 5.0) return 0;
  return std::abs(hi) > std::abs(lo) ? +1 : -1;
}

Result<KneeAngleTarget> knee_angle_target(const io::Recording& r, const KneeAngleTargetSpec& spec) {
  const std::string where = r.source_path.empty() ? (r.subject_id.empty() ? "<recording>" : r.subject_id)
                                                  : r.source_path.string();
  const int c = r.channel_index(spec.channel);
  if (c < 0) {
    std::string names;
    for (const auto& n : r.channel_names) names += (names.empty() ? "" : " ") + n;
    return make_error(ErrorCode::mismatch, where, 0,
                      "no knee-angle channel '" + spec.channel + "' (a goniometer is needed to train or score a "
                      "knee-angle model; channels: " + names + ")");
  }
  const std::string unit = std::size_t(c) < r.channel_units.size() ? r.channel_units[std::size_t(c)] : "";
  if (!unit.empty() && unit != "deg" && unit != "degrees" && unit != "\u00b0")
    return make_error(ErrorCode::mismatch, where, 0, "knee-angle channel " + spec.channel + " is in '" + unit +
                                                         "', expected degrees");
  KneeAngleTarget t;
  const auto ch = r.channel(std::size_t(c));
  t.angle_deg.assign(ch.begin(), ch.end());
  for (std::size_t i = 0; i < t.angle_deg.size(); ++i)
    if (!std::isfinite(t.angle_deg[i]))
      return make_error(ErrorCode::mismatch, where, 0, "knee-angle channel has a non-finite value at sample " +
                                                           std::to_string(i));
  const int sign = detect_flexion_sign(t.angle_deg);
  switch (spec.convention) {
    case AngleConvention::detect: t.negated = sign < 0; break;
    case AngleConvention::flexion_positive:
      if (sign < 0)
        return make_error(ErrorCode::mismatch, where, 0, "the knee angle reads flexion-negative but flexion-positive "
                                                         "was asked for (use the detect convention to negate it)");
      break;
    case AngleConvention::flexion_negative:
      if (sign > 0)
        return make_error(ErrorCode::mismatch, where, 0, "the knee angle reads flexion-positive but flexion-negative "
                                                         "was asked for");
      t.negated = true;
      break;
  }
  if (t.negated)
    for (double& a : t.angle_deg) a = -a;
  if (spec.lowpass_hz > 0) {
    auto d = dsp::design_lowpass(spec.lowpass_order, spec.lowpass_hz, r.sample_rate_hz);
    if (!d) return make_error(ErrorCode::invalid_argument, where, 0, "knee-angle filter: " + d.error().message());
    if (Status s = dsp::sosfiltfilt(*d, t.angle_deg, 1, t.angle_deg); !s)
      return make_error(ErrorCode::invalid_argument, where, 0, "knee angle: " + s.error().message());
  }
  return t;
}

}  // namespace myoexo::models
