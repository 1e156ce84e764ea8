// myoexo::report — PNG figures a person can read: spectrogram heat maps, line plots, grouped bar charts and
// annotated matrices (confusion matrices). Drawn with PLplot's "pngcairo" device.
//
// Why PLplot: it is a Debian package with a C API, renders anti-aliased PNGs through Cairo without a display,
// and has colour bars and legends built in. Its drawback is global state and a fatal-exit error path
// (plexit() calls exit()), so every function here
//   * validates its inputs and opens the output path itself before PLplot is touched (bad input or an
//     unwritable path is an Error, never an exit), and
//   * holds one process-wide mutex for the whole drawing: plots may be requested from several threads but are
//     drawn one at a time.
// None of this is meant for the real-time path (each call allocates and writes a file).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace myoexo::report {

/// Size of the PNG in pixels. 400..8000 each side.
struct ImageSize {
  int width_px = 1200;
  int height_px = 700;
};

// ---- (a) spectrogram heat map -----------------------------------------------------------------------------

/// A time-frequency image, laid out like scipy.signal.spectrogram's `Sxx`: `power_db[f * times_s.size() + t]`
/// is the level of frequency bin f at segment t, in dB.
struct SpectrogramPlot {
  std::string title;
  std::vector<double> times_s;     ///< segment centres, strictly increasing, >= 1 value
  std::vector<double> freqs_hz;    ///< bin frequencies, strictly increasing, >= 1 value
  std::vector<double> power_db;    ///< [freqs x times], freq-major; -inf/NaN are drawn at the bottom colour
  /// Colour range in dB. Unset: max = the largest finite value, min = max - dynamic_range_db.
  std::optional<double> db_min;
  std::optional<double> db_max;
  double dynamic_range_db = 60.0;  ///< used when db_min is unset; > 0
  std::optional<double> max_freq_hz;  ///< crop the frequency axis (e.g. 500 Hz); unset = Nyquist
  std::string colorbar_label = "Power (dB)";
  ImageSize size;
};

/// Writes `png`: time (s) on x, frequency (Hz) on y, a dB colour map with a labelled colour bar, the title.
/// Errors: invalid_argument for mismatched/empty/non-increasing axes or no finite value; io when `png`
/// cannot be written.
Status plot_spectrogram(const SpectrogramPlot& plot, const std::filesystem::path& png);

// ---- (b) line plot ----------------------------------------------------------------------------------------

/// One named curve; x and y have the same size (>= 1). Non-finite points break the line (they are skipped).
struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

struct LinePlot {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;        ///< 1..12 series; each gets its own colour and a legend entry
  std::optional<double> y_min;       ///< axis range; unset = data range with a 5 % margin
  std::optional<double> y_max;
  bool log_y = false;                ///< log10 y axis (values <= 0 are skipped)
  ImageSize size;
};

/// Writes `png`: every series as a line, x/y labels, a legend (top right, outside the data), the title.
Status plot_lines(const LinePlot& plot, const std::filesystem::path& png);

// ---- (c) grouped bar chart --------------------------------------------------------------------------------

/// `values[g][c]` is the bar of group g (e.g. "precision") for category c (e.g. class "gait").
struct BarChart {
  std::string title;
  std::string y_label;
  std::vector<std::string> categories;          ///< x-axis labels, 1..40
  std::vector<std::string> groups;              ///< legend entries, 1..8 bars per category
  std::vector<std::vector<double>> values;      ///< [groups][categories], finite
  std::optional<double> y_min;                  ///< unset: min(0, data)
  std::optional<double> y_max;                  ///< unset: data max + 10 % (1.0 is a good choice for scores)
  bool show_values = true;                      ///< print each bar's value above it ("%.2f")
  ImageSize size;
};

/// Writes `png`: bars grouped by category, one colour per group, a legend, the y label and the title.
Status plot_bars(const BarChart& chart, const std::filesystem::path& png);

// ---- (d) annotated matrix (confusion matrix) --------------------------------------------------------------

/// `values[r * col_names.size() + c]`; rows drawn top to bottom in the given order.
struct MatrixPlot {
  std::string title;
  std::string x_label = "Predicted class";
  std::string y_label = "True class";
  std::vector<std::string> row_names;   ///< 1..40
  std::vector<std::string> col_names;   ///< 1..40
  std::vector<double> values;           ///< [rows x cols], row-major, finite
  std::optional<double> v_min;          ///< colour range; unset = data range (0..1 for normalised matrices)
  std::optional<double> v_max;
  std::string number_format = "%.2f";   ///< printf format of one double, printed in every cell
  std::string colorbar_label = "Fraction of true class";
  ImageSize size{900, 800};
};

/// Writes `png`: one coloured cell per value with the number printed in it (black or white for contrast),
/// class names on both axes, a colour bar and the title.
Status plot_matrix(const MatrixPlot& plot, const std::filesystem::path& png);

/// Divides every row of a [rows x cols] count matrix by its sum (rows summing to 0 stay 0). Useful for
/// confusion matrices: row r then says where the true class r went. counts.size() must be rows * cols
/// (a programmer error otherwise: std::invalid_argument).
std::vector<double> normalize_rows(const std::vector<double>& counts, std::size_t rows, std::size_t cols);

}  // namespace myoexo::report
