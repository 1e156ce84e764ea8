// Helpers shared by the myoexo subcommands (not part of the public app API).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "core/error.hpp"
#include "core/paths.hpp"
#include "dsp/butterworth.hpp"
#include "dsp/wavelet.hpp"
#include "io/io.hpp"
#include "io/recording.hpp"

namespace myoexo::app {

/// Progress lines on stderr for work that takes more than a second. Prints nothing for the first second
/// (fast work stays quiet), then at most one line per second, and a final line when it was shown at all.
/// Whole lines, not carriage returns: stderr is often a log file.
class Progress {
 public:
  Progress(const Context& ctx, std::string what, std::size_t total);
  /// `done` units of `total` finished.
  void update(std::size_t done);
  /// Prints "<what>: done (<elapsed> s)" if any line was printed before, or if `always`.
  void finish(bool always = false);

 private:
  const Context& ctx_;
  std::string what_;
  std::size_t total_;
  std::chrono::steady_clock::time_point start_, last_;
  bool shown_ = false;
};

/// "myoexo: <text>" on err unless quiet.
void log_line(const Context& ctx, const std::string& text);

/// Indices of the channels to process: the named ones (error naming an unknown channel and listing the
/// available ones), or when `names` is empty every channel whose unit is not an angle ("deg").
Result<std::vector<std::size_t>> select_channels(const io::Recording& rec, const std::vector<std::string>& names);

/// The band-pass (and optional notch) design for a recording's rate from CLI values. `low`/`high` both set or
/// both unset; at least one of band-pass and notch must be given.
Result<dsp::SosDesign> design_from_options(double sample_rate_hz, std::optional<double> low_hz,
                                           std::optional<double> high_hz, int order,
                                           std::optional<double> notch_hz = {}, double notch_q = 30.0);

/// Filters the channels `which` of `rec` in place: causal SosFilter from zero state, or sosfiltfilt.
Status filter_channels(io::Recording& rec, const dsp::SosDesign& design, const std::vector<std::size_t>& which,
                       bool zero_phase);

/// A double as the shortest text that reads back to the same value (std::to_chars).
std::string format_double(double v);

/// `s` with ASCII letters in lower case (names typed in any case: models, protocols, data sets).
std::string ascii_lower(std::string s);

/// A share as "88.8 %" (one decimal).
std::string format_percent(double share);

/// The data-set folder of a command: `data` (resolved like any input path) or <data root>/uci-lower-limb,
/// loaded with io::load_dataset. Errors: io (no root / not a folder), those of load_dataset.
Result<io::Dataset> load_data_folder(const Context& ctx, const std::optional<std::filesystem::path>& data);

/// Creates the parent folder of `path` if needed; io error when it cannot.
Status ensure_parent_dir(const std::filesystem::path& path);

/// Spectrogram of one channel: the numbers (freq-major dB, as scipy's Sxx) and axes.
struct ChannelSpectrogram {
  std::vector<double> times_s;
  std::vector<double> freqs_hz;
  std::vector<double> power_db;  ///< [freqs x times]
};

/// Computes the spectrogram of `samples` (PSD scaling, one-sided, dB = 10 log10(P), P = 0 -> -inf).
Result<ChannelSpectrogram> compute_channel_spectrogram(const std::vector<double>& samples, double sample_rate_hz,
                                                       std::size_t nperseg, std::size_t noverlap,
                                                       const std::string& window);

/// Writes <prefix>.csv (time_s,frequency_hz,power_db) and <prefix>.png (report::plot_spectrogram);
/// `unit` is the signal's unit for the colour-bar label ("" = "unit").
Status write_spectrogram_outputs(const ChannelSpectrogram& s, const std::filesystem::path& prefix,
                                 const std::string& title, std::optional<double> max_freq_hz,
                                 const std::string& unit);

/// Subject ids in natural order ("1A" < "2A" < "11A"): leading number, then the rest.
bool subject_less(const std::string& a, const std::string& b);

/// A name as a file-name part: letters, digits, '-', '_' and '.' kept, anything else (spaces, '/') becomes '_'
/// ("leg lift" -> "leg_lift"), so Markdown links and shells need no quoting.
std::string file_name_part(const std::string& name);

/// The front end a command line asks for instead of the model's or the protocol's: `--bandpass LOW HIGH` and
/// `--denoise wavelet|none`. Unset fields keep what the model or protocol says.
struct FrontEndOverride {
  std::optional<double> band_low_hz, band_high_hz;
  std::optional<bool> wavelet;  ///< true: the default wavelet stage (dsp::WaveletStreamConfig{}); false: none
};

/// Applies `o` to a band and an optional wavelet stage. Errors: invalid_argument when the band is not
/// 0 < LOW < HIGH.
Status apply_front_end_override(const FrontEndOverride& o, double& band_low_hz, double& band_high_hz,
                                std::optional<dsp::WaveletStreamConfig>& denoise);

/// "20-150 Hz band-pass, wavelet db4 4 levels, ... delay 32 samples" / "20-450 Hz band-pass, no wavelet stage".
std::string describe_front_end(int filter_order, double band_low_hz, double band_high_hz,
                               const std::optional<dsp::WaveletStreamConfig>& denoise);

}  // namespace myoexo::app
