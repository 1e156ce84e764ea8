// myoexo::models — the knee angle as a regression target: which channel holds it, which way it reads, how it is
// smoothed. Shared by the evaluation protocols and by training the model a live session runs, so both see the same
// target.
//
// Convention: flexion positive, degrees, 0 = the goniometer's zero. Goniometers are mounted either way round (the
// UCI lower-limb files differ per subject): `detect` finds each recording's sign from its extremes (a knee flexes
// far, to 60-120 deg, and hyper-extends little) and negates a flexion-negative recording; a stated convention
// refuses recordings that read the other way. The target is low-passed zero-phase (Butterworth, 6 Hz, order 2 by
// default: the band of voluntary knee motion; it also smooths a goniometer sampled at 50 Hz and held) — the
// target only: the EMG path stays causal.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "io/recording.hpp"

namespace myoexo::models {

enum class AngleConvention {
  detect,             ///< per recording from its extremes; flexion-negative recordings are negated
  flexion_positive,   ///< refuse recordings that read flexion-negative
  flexion_negative,   ///< the recordings are flexion-negative (negated); refuse those that are not
};
const char* angle_convention_name(AngleConvention c) noexcept;  ///< "detect", "flexion_positive", "flexion_negative"
Result<AngleConvention> parse_angle_convention(std::string_view text);

/// What a goniometer trace reads: +1 flexion positive, -1 flexion negative, 0 undecided (flat or symmetric: the
/// 2nd and 98th percentiles are within 5 deg of each other, or their magnitudes are).
int detect_flexion_sign(std::span<const double> angle_deg);

struct KneeAngleTargetSpec {
  std::string channel = "FX";
  AngleConvention convention = AngleConvention::detect;
  double lowpass_hz = 6.0;  ///< zero-phase Butterworth on the target; 0 = the raw goniometer
  int lowpass_order = 2;
};

struct KneeAngleTarget {
  std::vector<double> angle_deg;  ///< flexion positive, filtered, one per sample
  bool negated = false;           ///< read flexion-negative and negated
};

/// The knee-angle target of one recording. Errors (naming the file): mismatch (no such channel, a unit other than
/// degrees, a non-finite value, a convention that disagrees), invalid_argument (bad filter settings, a recording
/// too short for the zero-phase filter).
Result<KneeAngleTarget> knee_angle_target(const io::Recording& rec, const KneeAngleTargetSpec& spec);

}  // namespace myoexo::models
