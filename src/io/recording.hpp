// myoexo::io — the in-memory recording every stage consumes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace myoexo::io {

/// A multi-channel recording, channel-major: `samples[c * n_samples + i]` is sample i of channel c.
///
/// Samples are double, not float: the sources are 14-bit (UCI lower-limb) or 8-bit (Myo) ADCs, so float
/// would hold them exactly too, but every downstream stage is checked against SciPy/NumPy in float64 to
/// 1e-9, the data sets are small (< 70 s x 6 ch x 1 kHz), and doubles keep offline numbers identical to the
/// references. The real-time path converts to its own buffers.
/// One interval or instant of a recording: a BIDS events.tsv row (onset, duration, trial_type) or an EDF+
/// annotation (onset, duration, text). duration_s 0 = an instant (a note such as a gap in the stream).
struct Event {
  double onset_s = 0.0;
  double duration_s = 0.0;
  std::string label;
};

struct Recording {
  double sample_rate_hz = 0.0;
  std::vector<std::string> channel_names;   ///< canonical names (RF, BF, VM, ST, FX for UCI lower-limb)
  std::vector<std::string> channel_units;   ///< "mV", "deg", ... ("" when unknown); same size as names
  std::size_t n_samples = 0;                ///< samples per channel
  std::vector<double> samples;              ///< [channels x n_samples], channel-major

  std::string subject_id;                   ///< e.g. "1N", "9A", "03"; "" when unknown
  std::string group;                        ///< e.g. "normal", "abnormal" (UCI lower-limb); "" when unknown
  std::string label;                        ///< per-file movement/class, e.g. "gait"; "" when per-sample
  std::vector<int> sample_labels;           ///< per-sample class ids (size n_samples) or empty
  std::vector<std::string> label_names;     ///< names of the ids in sample_labels (index = id), may be empty
  std::string session;                      ///< series/session id within a subject ("1", "2"), may be empty
  /// Notes on the time line that are not class labels (EDF+ annotations without a duration, e.g. "gap: 120
  /// samples lost"); written to EDF+ and read back.
  std::vector<Event> annotations;
  /// Wall-clock time of the first sample, UTC, in milliseconds since 1970-01-01 (EDF/EDF+ header start date and
  /// time, a recorder's start); unset when the file does not say.
  std::optional<std::int64_t> start_utc_ms;

  std::filesystem::path source_path;        ///< where it was read from ("" when synthetic)
  std::size_t rows_skipped = 0;             ///< incomplete/corrupt rows the reader skipped
  std::vector<std::size_t> skipped_lines;   ///< 1-based line numbers of the first skipped rows (at most 100 kept)
  std::vector<std::string> warnings;        ///< non-fatal findings of the reader (e.g. header count != rows)

  std::size_t n_channels() const noexcept { return channel_names.size(); }
  double duration_s() const noexcept { return sample_rate_hz > 0 ? double(n_samples) / sample_rate_hz : 0.0; }

  std::span<double> channel(std::size_t c) noexcept { return {samples.data() + c * n_samples, n_samples}; }
  std::span<const double> channel(std::size_t c) const noexcept {
    return {samples.data() + c * n_samples, n_samples};
  }
  /// Index of a channel by (canonical) name, or -1.
  int channel_index(const std::string& name) const noexcept {
    for (std::size_t c = 0; c < channel_names.size(); ++c)
      if (channel_names[c] == name) return static_cast<int>(c);
    return -1;
  }
};

}  // namespace myoexo::io
