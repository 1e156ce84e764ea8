// PLplot drawing for myoexo::report. See report.hpp for why every input is checked before PLplot is called.
#include "report/report.hpp"

#include <plplot.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <mutex>
#include <string>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

namespace myoexo::report {
namespace {

// The plot's title above the viewport, shrunk to the page width when it is longer (a long model name must not be
// cut off at both edges). `disp` as plmtex's (pllab puts titles at 2.0).
void draw_title(const std::string& title, double disp) {
  if (title.empty()) return;
  PLFLT def = 0, cur = 0;
  plgchr(&def, &cur);
  PLFLT xmin = 0, xmax = 0, ymin = 0, ymax = 0, vx0 = 0, vx1 = 0, vy0 = 0, vy1 = 0;
  plgspa(&xmin, &xmax, &ymin, &ymax);  // the page in mm
  plgvpd(&vx0, &vx1, &vy0, &vy1);      // the viewport in normalised page coordinates
  const double page_w = xmax - xmin, centre = 0.5 * (vx0 + vx1) * page_w;
  const double room = 2.0 * std::min(centre, page_w - centre) * 0.96;
  // PLplot has no public text-extent call: with the cairo driver's sans-serif font a character of a mixed-case
  // title averages about 0.8 of the character height (measured on the plots this program writes).
  const double len = 0.8 * cur * static_cast<double>(title.size());
  const double scale = def > 0 ? cur / def : 1.0;
  if (len > room && len > 0) plschr(0.0, scale * room / len);
  plmtex("t", disp, 0.5, 0.5, title.c_str());
  plschr(0.0, scale);
}

namespace fs = std::filesystem;

// PLplot keeps one global library state (current stream, colour maps, viewport): one plot at a time.
std::mutex& plplot_mutex() {
  static std::mutex m;
  return m;
}

// cmap0 indices used below.
constexpr int kBackground = 0;
constexpr int kForeground = 1;
constexpr int kGrid = 14;
constexpr int kFirstSeries = 2;
constexpr int kSeriesColours = 12;

// Tableau-10 plus two: distinguishable for the common colour-vision deficiencies and in greyscale print.
constexpr std::array<std::array<int, 3>, 16> kPalette{{
    {255, 255, 255}, {0, 0, 0},                                                              // bg, fg
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189}, {140, 86, 75},
    {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}, {0, 0, 128}, {0, 100, 0},
    {220, 220, 220}, {255, 255, 255},                                                        // grid, spare
}};

Error invalid(const std::string& what) { return make_error(ErrorCode::invalid_argument, what); }

bool all_finite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

bool strictly_increasing(const std::vector<double>& v) {
  for (std::size_t i = 1; i < v.size(); ++i)
    if (!(v[i] > v[i - 1])) return false;
  return all_finite(v);
}

Status check_size(const ImageSize& s) {
  if (s.width_px < 400 || s.width_px > 8000 || s.height_px < 400 || s.height_px > 8000)
    return invalid("image size " + std::to_string(s.width_px) + "x" + std::to_string(s.height_px) +
                   " px is outside 400..8000");
  return {};
}

// PLplot would exit() the process when it cannot open its output file, so open (and truncate) it here first.
Status check_writable(const fs::path& png) {
  if (png.empty()) return make_error(ErrorCode::io, "no output path given for the PNG");
  std::error_code ec;
  if (fs::is_directory(png, ec))
    return make_error(ErrorCode::io, png.string(), 0, "is a directory, expected a .png file path");
  const fs::path parent = png.has_parent_path() ? png.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec))
    return make_error(ErrorCode::io, png.string(), 0, "folder " + parent.string() + " does not exist");
  std::ofstream probe(png, std::ios::binary | std::ios::trunc);
  if (!probe) return make_error(ErrorCode::io, png.string(), 0, "cannot be opened for writing");
  return {};
}

// '#' starts a PLplot text escape sequence; labels are printed literally.
std::string plain(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    out += c;
    if (c == '#') out += '#';
  }
  return out;
}

std::string format_value(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Checks a printf format for exactly one floating conversion, so a user string cannot crash snprintf.
bool is_single_double_format(const std::string& fmt) {
  int conversions = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') continue;
    if (i + 1 < fmt.size() && fmt[i + 1] == '%') {
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < fmt.size() && std::string_view("+- #0123456789.").find(fmt[j]) != std::string_view::npos) ++j;
    if (j >= fmt.size() || std::string_view("fFeEgG").find(fmt[j]) == std::string_view::npos) return false;
    ++conversions;
    i = j;
  }
  return conversions == 1 && fmt.size() < 32;
}

// One PLplot page writing one PNG; begins in the constructor, finishes (writes the file) in the destructor.
class Page {
 public:
  Page(const fs::path& png, const ImageSize& size) : lock_(plplot_mutex()) {
    plsdev("pngcairo");
    plsfnam(png.string().c_str());
    plspage(0.0, 0.0, size.width_px, size.height_px, 0, 0);
    plscmap0n(static_cast<PLINT>(kPalette.size()));
    for (std::size_t i = 0; i < kPalette.size(); ++i)
      plscol0(static_cast<PLINT>(i), kPalette[i][0], kPalette[i][1], kPalette[i][2]);
    plinit();
    pladv(0);
    // Character height scales with the image so text stays legible at any size (1.0 is right near 700 px).
    plschr(0.0, std::clamp(std::min(size.width_px / 1200.0, size.height_px / 700.0), 0.8, 3.0) * 0.95);
    plcol0(kForeground);
    plwidth(1.0);
  }
  ~Page() { plend(); }
  Page(const Page&) = delete;
  Page& operator=(const Page&) = delete;

 private:
  std::lock_guard<std::mutex> lock_;
};

// Two 256-colour maps for cmap1: perceptually uniform viridis for dB images, white-to-blue for matrices.
void use_viridis() {
  static constexpr std::array<double, 11> pos{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  static constexpr std::array<double, 11> r{0.267, 0.283, 0.254, 0.207, 0.164, 0.128, 0.135, 0.267, 0.478, 0.741,
                                            0.993};
  static constexpr std::array<double, 11> g{0.005, 0.141, 0.265, 0.372, 0.471, 0.567, 0.659, 0.749, 0.821, 0.873,
                                            0.906};
  static constexpr std::array<double, 11> b{0.329, 0.458, 0.530, 0.553, 0.558, 0.551, 0.518, 0.441, 0.318, 0.150,
                                            0.144};
  plscmap1n(256);
  plscmap1l(1, static_cast<PLINT>(pos.size()), pos.data(), r.data(), g.data(), b.data(), nullptr);
}

void use_blues() {
  static constexpr std::array<double, 5> pos{0.0, 0.25, 0.5, 0.75, 1.0};
  static constexpr std::array<double, 5> r{0.969, 0.776, 0.420, 0.129, 0.031};
  static constexpr std::array<double, 5> g{0.984, 0.859, 0.682, 0.443, 0.188};
  static constexpr std::array<double, 5> b{1.000, 0.937, 0.839, 0.710, 0.420};
  plscmap1n(256);
  plscmap1l(1, static_cast<PLINT>(pos.size()), pos.data(), r.data(), g.data(), b.data(), nullptr);
}

// A vertical colour bar right of the current viewport, labelled on its right side.
void draw_colorbar(double vmin, double vmax, const std::string& label) {
  PLFLT width = 0, height = 0;
  PLINT label_opts[] = {PL_COLORBAR_LABEL_RIGHT};
  const std::string text = plain(label);
  const char* labels[] = {text.c_str()};
  const char* axis_opts[] = {"bcvtm"};
  PLFLT ticks[] = {0.0};
  PLINT sub_ticks[] = {0};
  PLINT n_values[] = {2};
  PLFLT range[] = {vmin, vmax};
  const PLFLT* values[] = {range};
  plcol0(kForeground);
  plcolorbar(&width, &height, PL_COLORBAR_IMAGE, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
             0.02, 0.0, 0.03, 1.0, kBackground, kForeground, 1, 0.0, 0.0, 0, 0.0, 1, label_opts, labels, 1,
             axis_opts, ticks, sub_ticks, n_values, values);
}

// Legend with one entry per series in the top-right corner of the page (the caller leaves that margin free).
void draw_legend(const std::vector<std::string>& names, bool boxes) {
  const auto n = static_cast<PLINT>(names.size());
  std::vector<std::string> texts;
  for (const auto& s : names) texts.push_back(plain(s));
  std::vector<const char*> text_ptrs;
  for (const auto& s : texts) text_ptrs.push_back(s.c_str());
  std::vector<PLINT> opts(n, boxes ? PL_LEGEND_COLOR_BOX : PL_LEGEND_LINE), text_colors(n, kForeground),
      colors(n), patterns(n, 0), styles(n, 1), symbol_numbers(n, 0);
  std::vector<PLFLT> box_scales(n, 0.8), box_widths(n, 1.0), line_widths(n, 3.0), symbol_scales(n, 1.0);
  std::vector<const char*> symbols(n, "");
  for (PLINT i = 0; i < n; ++i) colors[i] = kFirstSeries + i % kSeriesColours;
  PLFLT width = 0, height = 0;
  pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           PL_POSITION_RIGHT | PL_POSITION_TOP | PL_POSITION_INSIDE | PL_POSITION_SUBPAGE, 0.01, 0.08, 0.05,
           kBackground, kForeground, 1, 0, 0, n, opts.data(), 0.8, 0.85, 2.0, 0.0, text_colors.data(),
           text_ptrs.data(), colors.data(), patterns.data(), box_scales.data(), box_widths.data(), colors.data(),
           styles.data(), line_widths.data(), colors.data(), symbol_scales.data(), symbol_numbers.data(),
           symbols.data());
}

std::size_t longest(const std::vector<std::string>& names) {
  std::size_t n = 0;
  for (const auto& s : names) n = std::max(n, s.size());
  return n;
}

// A "nice" axis range around [lo, hi] with a margin; never empty.
std::pair<double, double> padded_range(double lo, double hi, double margin = 0.05) {
  if (!(hi > lo)) {
    const double d = std::abs(lo) > 0 ? std::abs(lo) * 0.1 : 1.0;
    return {lo - d, hi + d};
  }
  const double d = (hi - lo) * margin;
  return {lo - d, hi + d};
}

// Draws grid lines (light) then the box with ticks and numbers (dark).
void draw_axes(const char* xopt, const char* yopt) {
  plcol0(kGrid);
  plwidth(0.5);
  plbox("g", 0.0, 0, "g", 0.0, 0);
  plwidth(1.0);
  plcol0(kForeground);
  plbox(xopt, 0.0, 0, yopt, 0.0, 0);
}

}  // namespace

// ---- spectrogram ------------------------------------------------------------------------------------------

Status plot_spectrogram(const SpectrogramPlot& p, const fs::path& png) {
  const std::size_t nt = p.times_s.size(), nf = p.freqs_hz.size();
  if (nt == 0 || nf == 0) return invalid("spectrogram plot needs at least one time and one frequency");
  if (p.power_db.size() != nt * nf)
    return invalid("spectrogram plot: power_db has " + std::to_string(p.power_db.size()) + " values, expected " +
                   std::to_string(nf) + " x " + std::to_string(nt));
  if (!strictly_increasing(p.times_s) || !strictly_increasing(p.freqs_hz))
    return invalid("spectrogram plot: times and frequencies must be finite and strictly increasing");
  if (!(p.dynamic_range_db > 0)) return invalid("spectrogram plot: dynamic_range_db must be > 0");
  if (auto s = check_size(p.size); !s) return s;

  // Rows kept after the optional frequency crop.
  std::size_t nf_kept = nf;
  if (p.max_freq_hz) {
    nf_kept = 0;
    while (nf_kept < nf && p.freqs_hz[nf_kept] <= *p.max_freq_hz) ++nf_kept;
    if (nf_kept == 0) return invalid("spectrogram plot: max_freq_hz is below the first frequency");
  }
  double finite_max = -std::numeric_limits<double>::infinity();
  double finite_min = std::numeric_limits<double>::infinity();
  for (std::size_t f = 0; f < nf_kept; ++f)
    for (std::size_t t = 0; t < nt; ++t) {
      const double v = p.power_db[f * nt + t];
      if (std::isfinite(v)) finite_max = std::max(finite_max, v), finite_min = std::min(finite_min, v);
    }
  if (!std::isfinite(finite_max)) return invalid("spectrogram plot: no finite dB value to draw");
  const double zmax = p.db_max.value_or(finite_max);
  double zmin = p.db_min.value_or(std::max(finite_min, zmax - p.dynamic_range_db));
  if (!std::isfinite(zmin) || !std::isfinite(zmax) || !(zmax > zmin)) {
    if (p.db_min || p.db_max) return invalid("spectrogram plot: db_min must be below db_max");
    zmin = zmax - 1.0;  // a constant image: any non-empty range shows it
  }
  if (auto s = check_writable(png); !s) return s;

  // Cell edges: the axes hold centres of uniformly spaced cells.
  const double dt = nt > 1 ? (p.times_s.back() - p.times_s.front()) / double(nt - 1) : 1.0;
  const double df = nf_kept > 1 ? (p.freqs_hz[nf_kept - 1] - p.freqs_hz[0]) / double(nf_kept - 1) : 1.0;
  const double x0 = p.times_s.front() - dt / 2, x1 = p.times_s.back() + dt / 2;
  const double y0 = p.freqs_hz.front() - df / 2, y1 = p.freqs_hz[nf_kept - 1] + df / 2;
  const double wx0 = std::max(0.0, x0), wy0 = std::max(0.0, y0);

  // plimage treats idata[x][y] as values at grid *nodes* (nx nodes span nx-1 cells, each cell taking the
  // colour of its lower-left node), so pass one more node per axis (a copy of the last) to get exactly nt x nf
  // cells between the edges. Values outside [zmin, zmax] would be left blank: clamp them.
  const std::size_t gx = nt + 1, gy = nf_kept + 1;
  std::vector<double> cells(gx * gy);
  std::vector<const double*> columns(gx);
  for (std::size_t i = 0; i < gx; ++i) {
    const std::size_t t = std::min(i, nt - 1);
    for (std::size_t j = 0; j < gy; ++j) {
      const double v = p.power_db[std::min(j, nf_kept - 1) * nt + t];
      cells[i * gy + j] = std::isfinite(v) ? std::clamp(v, zmin, zmax) : zmin;
    }
    columns[i] = cells.data() + i * gy;
  }

  Page page(png, p.size);
  use_viridis();
  plvpor(0.09, 0.84, 0.12, 0.92);
  plwind(wx0, x1, wy0, y1);
  plimage(columns.data(), static_cast<PLINT>(gx), static_cast<PLINT>(gy), x0, x1, y0, y1, zmin, zmax, wx0, x1,
          wy0, y1);
  plcol0(kForeground);
  plbox("bcnst", 0.0, 0, "bcnstv", 0.0, 0);
  pllab("Time (s)", "Frequency (Hz)", "");
  draw_title(plain(p.title), 2.0);
  draw_colorbar(zmin, zmax, p.colorbar_label);
  return {};
}

// ---- line plot --------------------------------------------------------------------------------------------

Status plot_lines(const LinePlot& p, const fs::path& png) {
  if (p.series.empty() || p.series.size() > 12) return invalid("line plot needs 1..12 series");
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& s : p.series) {
    if (s.x.size() != s.y.size() || s.x.empty())
      return invalid("line plot: series '" + s.name + "' needs x and y of the same non-zero size");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      double y = s.y[i];
      if (p.log_y) y = y > 0 ? std::log10(y) : std::numeric_limits<double>::quiet_NaN();
      if (!std::isfinite(s.x[i]) || !std::isfinite(y)) continue;
      xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    }
  }
  if (!std::isfinite(xmin) || !std::isfinite(ymin)) return invalid("line plot: no finite point to draw");
  auto [ylo, yhi] = padded_range(ymin, ymax);
  if (p.y_min) ylo = p.log_y ? std::log10(*p.y_min) : *p.y_min;
  if (p.y_max) yhi = p.log_y ? std::log10(*p.y_max) : *p.y_max;
  if (!std::isfinite(ylo) || !std::isfinite(yhi) || !(yhi > ylo)) return invalid("line plot: y_min must be below y_max");
  if (!(xmax > xmin)) std::tie(xmin, xmax) = padded_range(xmin, xmax);
  if (auto s = check_size(p.size); !s) return s;
  if (auto s = check_writable(png); !s) return s;

  std::vector<std::string> names;
  for (const auto& s : p.series) names.push_back(s.name);
  // Leave room right of the data for the legend (about 0.0085 of the width per character at 1200 px).
  const double right = std::clamp(0.89 - 0.0085 * double(longest(names)) * 1200.0 / p.size.width_px, 0.55, 0.85);

  Page page(png, p.size);
  plvpor(0.10, right, 0.12, 0.92);
  plwind(xmin, xmax, ylo, yhi);
  draw_axes("bcnst", p.log_y ? "bcnstvl" : "bcnstv");
  plwidth(2.0);
  for (std::size_t k = 0; k < p.series.size(); ++k) {
    const auto& s = p.series[k];
    plcol0(kFirstSeries + static_cast<PLINT>(k) % kSeriesColours);
    // Draw each finite run separately so a NaN breaks the line instead of joining across it.
    std::vector<double> xs, ys;
    auto flush = [&] {
      if (xs.size() == 1) plpoin(1, xs.data(), ys.data(), 17);
      if (xs.size() > 1) plline(static_cast<PLINT>(xs.size()), xs.data(), ys.data());
      xs.clear(), ys.clear();
    };
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      double y = s.y[i];
      if (p.log_y) y = y > 0 ? std::log10(y) : std::numeric_limits<double>::quiet_NaN();
      if (std::isfinite(s.x[i]) && std::isfinite(y)) {
        xs.push_back(s.x[i]);
        ys.push_back(y);
      } else {
        flush();
      }
    }
    flush();
  }
  plwidth(1.0);
  plcol0(kForeground);
  pllab(plain(p.x_label).c_str(), plain(p.y_label).c_str(), "");
  draw_title(plain(p.title), 2.0);
  draw_legend(names, false);
  return {};
}

// ---- grouped bars -----------------------------------------------------------------------------------------

Status plot_bars(const BarChart& c, const fs::path& png) {
  const std::size_t ncat = c.categories.size(), ngroup = c.groups.size();
  if (ncat == 0 || ncat > 40) return invalid("bar chart needs 1..40 categories");
  if (ngroup == 0 || ngroup > 8) return invalid("bar chart needs 1..8 groups");
  if (c.values.size() != ngroup) return invalid("bar chart: values needs one row per group");
  double vmin = 0.0, vmax = 0.0;
  for (const auto& row : c.values) {
    if (row.size() != ncat) return invalid("bar chart: every values row needs one value per category");
    if (!all_finite(row)) return invalid("bar chart: values must be finite");
    for (double v : row) vmin = std::min(vmin, v), vmax = std::max(vmax, v);
  }
  const double ylo = c.y_min.value_or(vmin);
  double yhi = c.y_max.value_or(vmax + 0.1 * std::max(vmax - vmin, 1e-12));
  if (!(yhi > ylo)) {
    if (c.y_min || c.y_max) return invalid("bar chart: y_min must be below y_max");
    yhi = ylo + 1.0;
  }
  if (auto s = check_size(c.size); !s) return s;
  if (auto s = check_writable(png); !s) return s;

  // Long or many category names are written vertically under the axis.
  const bool vertical = double(ncat * longest(c.categories)) * 1200.0 / c.size.width_px > 60.0;
  const double bottom = vertical ? std::min(0.5, 0.08 + 0.019 * double(longest(c.categories))) : 0.12;
  const double right = std::clamp(0.89 - 0.0085 * double(longest(c.groups)) * 1200.0 / c.size.width_px, 0.55, 0.85);

  Page page(png, c.size);
  plvpor(0.10, right, bottom, 0.92);
  plwind(0.0, double(ncat), ylo, yhi);
  draw_axes("bc", "bcnstv");
  const double slot = 0.8 / double(ngroup);
  // Value labels shrink with the bars so neighbours do not overlap ("0.80" needs about 45 px at full size).
  const double bar_px = (right - 0.10) * c.size.width_px / double(ncat) * slot * 0.92;
  const double value_text_scale = std::clamp(bar_px / 45.0, 0.5, 1.0);
  for (std::size_t g = 0; g < ngroup; ++g) {
    for (std::size_t k = 0; k < ncat; ++k) {
      const double v = std::clamp(c.values[g][k], ylo, yhi);
      const double base = std::clamp(0.0, ylo, yhi);
      const double xa = double(k) + 0.1 + slot * double(g), xb = xa + slot * 0.92;
      double xs[4] = {xa, xb, xb, xa}, ys[4] = {base, base, v, v};
      plcol0(kFirstSeries + static_cast<PLINT>(g) % kSeriesColours);
      plfill(4, xs, ys);
      plcol0(kForeground);
      plline(4, xs, ys);
      if (c.show_values) {
        PLFLT ch_def = 0, ch_now = 0;
        plgchr(&ch_def, &ch_now);
        plschr(0.0, ch_now / ch_def * 0.7 * value_text_scale);
        const double pad = (yhi - ylo) * 0.02;
        const std::string text = format_value("%.2f", c.values[g][k]);
        plptex((xa + xb) / 2, c.values[g][k] >= 0 ? v + pad : v - 3 * pad, 1.0, 0.0, 0.5, text.c_str());
        plschr(0.0, ch_now / ch_def);
      }
    }
  }
  plcol0(kForeground);
  for (std::size_t k = 0; k < ncat; ++k) {
    const double pos = (double(k) + 0.5) / double(ncat);
    const std::string name = plain(c.categories[k]);
    if (vertical) plmtex("bv", 0.7, pos, 1.0, name.c_str());
    else plmtex("b", 1.6, pos, 0.5, name.c_str());
  }
  pllab("", plain(c.y_label).c_str(), "");
  draw_title(plain(c.title), 2.0);
  draw_legend(c.groups, true);
  return {};
}

// ---- matrix -----------------------------------------------------------------------------------------------

Status plot_matrix(const MatrixPlot& p, const fs::path& png) {
  const std::size_t nr = p.row_names.size(), nc = p.col_names.size();
  if (nr == 0 || nr > 40 || nc == 0 || nc > 40) return invalid("matrix plot needs 1..40 rows and columns");
  if (p.values.size() != nr * nc)
    return invalid("matrix plot: values has " + std::to_string(p.values.size()) + " entries, expected " +
                   std::to_string(nr) + " x " + std::to_string(nc));
  if (!all_finite(p.values)) return invalid("matrix plot: values must be finite");
  if (!is_single_double_format(p.number_format))
    return invalid("matrix plot: number_format must hold exactly one %f/%e/%g conversion");
  const auto [dmin, dmax] = std::minmax_element(p.values.begin(), p.values.end());
  const double vmin = p.v_min.value_or(*dmin);
  double vmax = p.v_max.value_or(*dmax);
  if (!(vmax > vmin)) {
    if (p.v_min || p.v_max) return invalid("matrix plot: v_min must be below v_max");
    vmax = vmin + 1.0;
  }
  if (auto s = check_size(p.size); !s) return s;
  if (auto s = check_writable(png); !s) return s;

  // Row r is drawn top-down: y cell [nr-1-r, nr-r]. Same node layout as the spectrogram: one extra node
  // per axis so plimage draws exactly nc x nr cells.
  const std::size_t gx = nc + 1, gy = nr + 1;
  std::vector<double> cells(gx * gy);
  std::vector<const double*> columns(gx);
  for (std::size_t i = 0; i < gx; ++i) {
    const std::size_t c = std::min(i, nc - 1);
    for (std::size_t j = 0; j < gy; ++j) {
      const std::size_t r = nr - 1 - std::min(j, nr - 1);
      cells[i * gy + j] = std::clamp(p.values[r * nc + c], vmin, vmax);
    }
    columns[i] = cells.data() + i * gy;
  }
  const double scale = 1200.0 / p.size.width_px;
  const double left = std::clamp(0.07 + 0.0105 * scale * double(longest(p.row_names)), 0.12, 0.45);
  const bool vertical_cols = double(nc * longest(p.col_names)) * scale > 55.0;
  const double bottom = vertical_cols ? std::min(0.45, 0.10 + 0.018 * double(longest(p.col_names))) : 0.12;

  Page page(png, p.size);
  use_blues();
  plvpor(left, 0.80, bottom, 0.91);
  plwind(0.0, double(nc), 0.0, double(nr));
  plimage(columns.data(), static_cast<PLINT>(gx), static_cast<PLINT>(gy), 0.0, double(nc), 0.0, double(nr), vmin,
          vmax, 0.0, double(nc), 0.0, double(nr));
  plcol0(kForeground);
  plbox("bc", 1.0, 0, "bc", 1.0, 0);
  // Cell numbers: white on dark cells, black on light ones; smaller when the matrix is large.
  PLFLT ch_def = 0, ch_now = 0;
  plgchr(&ch_def, &ch_now);
  const double base_scale = ch_now / ch_def;
  plschr(0.0, base_scale * std::clamp(8.0 / double(std::max(nr, nc)), 0.45, 1.0));
  for (std::size_t r = 0; r < nr; ++r)
    for (std::size_t c = 0; c < nc; ++c) {
      const double v = p.values[r * nc + c];
      const double level = (std::clamp(v, vmin, vmax) - vmin) / (vmax - vmin);
      plcol0(level > 0.55 ? kBackground : kForeground);
      const std::string text = format_value(p.number_format.c_str(), v);
      plptex(double(c) + 0.5, double(nr - r) - 0.5 - 0.15, 1.0, 0.0, 0.5, text.c_str());
    }
  plschr(0.0, base_scale);
  plcol0(kForeground);
  for (std::size_t c = 0; c < nc; ++c) {
    const std::string name = plain(p.col_names[c]);
    const double pos = (double(c) + 0.5) / double(nc);
    if (vertical_cols) plmtex("bv", 0.7, pos, 1.0, name.c_str());
    else plmtex("b", 1.4, pos, 0.5, name.c_str());
  }
  for (std::size_t r = 0; r < nr; ++r) {
    const std::string name = plain(p.row_names[r]);
    plmtex("lv", 0.7, (double(nr - r) - 0.5) / double(nr), 1.0, name.c_str());
  }
  const double label_gap = vertical_cols ? 1.0 + 0.9 * double(longest(p.col_names)) : 3.2;
  plmtex("b", label_gap, 0.5, 0.5, plain(p.x_label).c_str());
  plmtex("l", 1.6 + 0.85 * double(longest(p.row_names)), 0.5, 0.5, plain(p.y_label).c_str());
  draw_title(plain(p.title), 1.5);
  draw_colorbar(vmin, vmax, p.colorbar_label);
  return {};
}

std::vector<double> normalize_rows(const std::vector<double>& counts, std::size_t rows, std::size_t cols) {
  std::vector<double> out(rows * cols, 0.0);
  if (counts.size() != rows * cols) throw std::invalid_argument("normalize_rows: counts is not rows x cols");
  for (std::size_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (std::size_t c = 0; c < cols; ++c) sum += counts[r * cols + c];
    if (sum != 0)
      for (std::size_t c = 0; c < cols; ++c) out[r * cols + c] = counts[r * cols + c] / sum;
  }
  return out;
}

}  // namespace myoexo::report
