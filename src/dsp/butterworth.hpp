// myoexo::dsp — IIR filter design as second-order sections (SOS).
//
// Design is separate from execution: these pure functions return an immutable `SosDesign`; `SosFilter`
// (sos_filter.hpp) runs one. The numbers equal SciPy 1.10's `butter(N, Wn, btype, fs=fs, output='sos')`
// and `iirnotch(w0, Q, fs)` to ~1e-12 relative, including the section order and the pole/zero pairing
// (zpk2sos 'nearest'), so that filtered signals can be checked sample by sample against SciPy.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace myoexo::dsp {

/// Which response a design stage has.
enum class FilterKind { lowpass, highpass, bandpass, bandstop, notch };

/// "lowpass", "highpass", "bandpass", "bandstop", "notch".
const char* filter_kind_name(FilterKind kind) noexcept;

/// How one stage of a design was made (kept for provenance: a trained model records its filter).
struct DesignStage {
  FilterKind kind = FilterKind::lowpass;
  int order = 0;                ///< Butterworth order 1..8 (0 for a notch)
  double low_hz = 0.0;          ///< cutoff (low/high-pass), lower edge (band-pass/-stop) or notch centre
  double high_hz = 0.0;         ///< upper edge (band-pass/-stop); 0 otherwise
  double quality = 0.0;         ///< notch quality factor Q = centre / -3 dB bandwidth; 0 otherwise
  double sample_rate_hz = 0.0;  ///< sampling rate the design is for
};

/// A digital filter as a cascade of second-order sections, in the order they are applied.
/// Row s of `sections` is {b0, b1, b2, a0, a1, a2} (a0 == 1 for every design made here), i.e.
/// H_s(z) = (b0 + b1 z^-1 + b2 z^-2) / (a0 + a1 z^-1 + a2 z^-2); H(z) = prod_s H_s(z).
struct SosDesign {
  std::vector<std::array<double, 6>> sections;
  double sample_rate_hz = 0.0;     ///< the rate every stage was designed for
  std::vector<DesignStage> stages; ///< provenance, one entry per designed stage (cascades keep all)

  std::size_t n_sections() const noexcept { return sections.size(); }
  /// One line for a person: "bandpass order 4 20-450 Hz + notch 50 Hz Q 30 @ 1000 Hz".
  std::string describe() const;
};

/// Butterworth low-/high-pass: order 1..8, 0 < cutoff_hz < sample_rate_hz / 2, sample_rate_hz > 0.
/// Equal to scipy.signal.butter(order, cutoff_hz, btype, fs=sample_rate_hz, output='sos').
/// ceil(order/2) sections. Errors (invalid_argument) name the offending parameter.
Result<SosDesign> design_butterworth(FilterKind kind, int order, double cutoff_hz, double sample_rate_hz);

/// Butterworth band-pass/-stop: order 1..8 (each edge; the filter has 2*order poles, `order` sections),
/// 0 < low_hz < high_hz < sample_rate_hz / 2.
/// Equal to scipy.signal.butter(order, [low_hz, high_hz], btype, fs=sample_rate_hz, output='sos').
Result<SosDesign> design_butterworth(FilterKind kind, int order, double low_hz, double high_hz,
                                     double sample_rate_hz);

/// Shorthands for the common cases.
inline Result<SosDesign> design_bandpass(int order, double low_hz, double high_hz, double sample_rate_hz) {
  return design_butterworth(FilterKind::bandpass, order, low_hz, high_hz, sample_rate_hz);
}
inline Result<SosDesign> design_bandstop(int order, double low_hz, double high_hz, double sample_rate_hz) {
  return design_butterworth(FilterKind::bandstop, order, low_hz, high_hz, sample_rate_hz);
}
inline Result<SosDesign> design_lowpass(int order, double cutoff_hz, double sample_rate_hz) {
  return design_butterworth(FilterKind::lowpass, order, cutoff_hz, sample_rate_hz);
}
inline Result<SosDesign> design_highpass(int order, double cutoff_hz, double sample_rate_hz) {
  return design_butterworth(FilterKind::highpass, order, cutoff_hz, sample_rate_hz);
}

/// Second-order IIR notch (one section) at centre_hz with quality factor `quality` (> 0):
/// equal to scipy.signal.iirnotch(centre_hz, quality, fs=sample_rate_hz) (b, a as one SOS row).
/// 0 < centre_hz < sample_rate_hz / 2.
Result<SosDesign> design_notch(double centre_hz, double quality, double sample_rate_hz);

/// `first` then `second` as one design (sections appended, provenance concatenated). Both must be for
/// the same sample rate (else ErrorCode::mismatch).
Result<SosDesign> cascade(const SosDesign& first, const SosDesign& second);

/// Steady-state initial conditions of the step response, [n_sections x 2] row-major, as
/// scipy.signal.sosfilt_zi(sos): the state after an infinitely long input of constant 1. Scale by the
/// first input value to start a filter without a transient (what sosfiltfilt does).
std::vector<double> steady_state_initial_conditions(const SosDesign& design);

}  // namespace myoexo::dsp
