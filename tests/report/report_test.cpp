// Tests for myoexo::report: every plot writes a PNG of the requested size; bad input and bad paths give an
// Error (never a PLplot exit); plots may be requested from several threads at once.
#include "report/report.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <thread>
#include <vector>

#include "report/png_check.hpp"

namespace fs = std::filesystem;
using namespace myoexo;
using namespace myoexo::report;

namespace {

fs::path out_dir() {
  // Kept after the run on purpose: a person can open the PNGs to check they are legible.
  fs::path d = fs::path(::testing::TempDir()) / "myoexo_report_test";
  fs::create_directories(d);
  return d;
}

void expect_png(const fs::path& path, int w, int h) {
  auto header = test::read_png_header(path);
  ASSERT_TRUE(header.has_value()) << path << " is not a PNG";
  EXPECT_EQ(header->width, static_cast<std::uint32_t>(w));
  EXPECT_EQ(header->height, static_cast<std::uint32_t>(h));
  EXPECT_GT(fs::file_size(path), 5000u) << "suspiciously small image: " << path;
}

// A chirp-like test image: a ridge rising from 50 Hz to 400 Hz over 10 s, on a -80 dB floor.
SpectrogramPlot chirp_spectrogram() {
  SpectrogramPlot p;
  p.title = "Spectrogram of a synthetic chirp (channel RF)";
  for (int t = 0; t < 77; ++t) p.times_s.push_back(0.128 + 0.128 * t);
  for (int f = 0; f <= 128; ++f) p.freqs_hz.push_back(f * 1000.0 / 256.0);
  p.power_db.resize(p.times_s.size() * p.freqs_hz.size());
  for (std::size_t f = 0; f < p.freqs_hz.size(); ++f)
    for (std::size_t t = 0; t < p.times_s.size(); ++t) {
      const double ridge = 50.0 + 35.0 * p.times_s[t];
      const double d = (p.freqs_hz[f] - ridge) / 30.0;
      p.power_db[f * p.times_s.size() + t] = -80.0 + 70.0 * std::exp(-d * d);
    }
  p.power_db[0] = -INFINITY;  // log of a zero bin: drawn at the bottom colour, not an error
  return p;
}

LinePlot training_curves() {
  LinePlot p;
  p.title = "Training curves";
  p.x_label = "Epoch";
  p.y_label = "Loss";
  Series train{"training loss", {}, {}}, val{"validation loss (subject-wise)", {}, {}};
  for (int e = 1; e <= 40; ++e) {
    train.x.push_back(e), train.y.push_back(1.2 * std::exp(-e / 10.0) + 0.05);
    val.x.push_back(e), val.y.push_back(1.3 * std::exp(-e / 12.0) + 0.12 + (e == 20 ? NAN : 0.0));
  }
  p.series = {train, val};
  return p;
}

BarChart per_class_scores() {
  BarChart c;
  c.title = "Per-class scores";
  c.y_label = "Score";
  c.categories = {"gait", "sitting", "standing"};
  c.groups = {"precision", "recall", "F1"};
  c.values = {{0.91, 0.84, 0.77}, {0.88, 0.86, 0.79}, {0.895, 0.85, 0.78}};
  c.y_min = 0.0;
  c.y_max = 1.05;
  return c;
}

MatrixPlot confusion() {
  MatrixPlot m;
  m.title = "Confusion matrix (row-normalised)";
  m.row_names = m.col_names = {"gait", "sitting", "standing"};
  m.values = normalize_rows({50, 3, 7, 4, 40, 6, 9, 2, 39}, 3, 3);
  m.v_min = 0.0;
  m.v_max = 1.0;
  return m;
}

}  // namespace

TEST(Report, SpectrogramWritesPngOfRequestedSize) {
  auto p = chirp_spectrogram();
  const auto path = out_dir() / "spectrogram.png";
  ASSERT_TRUE(plot_spectrogram(p, path).ok());
  expect_png(path, p.size.width_px, p.size.height_px);
}

TEST(Report, SpectrogramCropsFrequencyAxisAndHonoursSize) {
  auto p = chirp_spectrogram();
  p.max_freq_hz = 250.0;
  p.size = {800, 500};
  const auto path = out_dir() / "spectrogram_cropped.png";
  ASSERT_TRUE(plot_spectrogram(p, path).ok());
  expect_png(path, 800, 500);
}

TEST(Report, LinePlotWritesPng) {
  const auto path = out_dir() / "lines.png";
  auto p = training_curves();
  ASSERT_TRUE(plot_lines(p, path).ok());
  expect_png(path, p.size.width_px, p.size.height_px);
}

TEST(Report, LogLinePlotWritesPng) {
  auto p = training_curves();
  p.log_y = true;
  p.series[0].y[3] = 0.0;  // not drawable on a log axis: skipped
  const auto path = out_dir() / "lines_log.png";
  ASSERT_TRUE(plot_lines(p, path).ok());
  expect_png(path, p.size.width_px, p.size.height_px);
}

TEST(Report, BarChartWritesPng) {
  const auto path = out_dir() / "bars.png";
  auto c = per_class_scores();
  ASSERT_TRUE(plot_bars(c, path).ok());
  expect_png(path, c.size.width_px, c.size.height_px);
}

TEST(Report, BarChartWithManyLongCategoriesWritesPng) {
  auto c = per_class_scores();
  c.categories = {"wrist flexion", "wrist extension", "radial deviation", "ulnar deviation", "extended palm",
                  "fist", "rest"};
  c.values = {std::vector<double>(7, 0.8), std::vector<double>(7, 0.6), std::vector<double>(7, 0.7)};
  const auto path = out_dir() / "bars_many.png";
  ASSERT_TRUE(plot_bars(c, path).ok());
  expect_png(path, c.size.width_px, c.size.height_px);
}

TEST(Report, MatrixWritesPng) {
  const auto path = out_dir() / "confusion.png";
  auto m = confusion();
  ASSERT_TRUE(plot_matrix(m, path).ok());
  expect_png(path, m.size.width_px, m.size.height_px);
}

TEST(Report, NormalizeRowsMakesRowsSumToOneAndKeepsZeroRows) {
  const auto n = normalize_rows({2, 2, 0, 0, 0, 0}, 3, 2);
  EXPECT_DOUBLE_EQ(n[0], 0.5);
  EXPECT_DOUBLE_EQ(n[1], 0.5);
  EXPECT_DOUBLE_EQ(n[2] + n[3], 0.0);
  EXPECT_THROW((void)normalize_rows({1, 2, 3}, 2, 2), std::invalid_argument);
}

TEST(Report, UnwritablePathsAreIoErrorsNotExits) {
  const auto p = training_curves();
  for (const fs::path& bad : {out_dir() / "no_such_folder" / "x.png", out_dir(), fs::path()}) {
    auto s = plot_lines(p, bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, ErrorCode::io) << bad;
    EXPECT_FALSE(s.error().message().empty());
  }
  auto s = plot_spectrogram(chirp_spectrogram(), out_dir() / "missing" / "s.png");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::io);
}

TEST(Report, InconsistentInputsAreInvalidArgument) {
  const auto dir = out_dir();
  auto spec = chirp_spectrogram();
  spec.power_db.pop_back();
  EXPECT_EQ(plot_spectrogram(spec, dir / "bad.png").error().code, ErrorCode::invalid_argument);
  spec = chirp_spectrogram();
  std::swap(spec.times_s[0], spec.times_s[1]);
  EXPECT_EQ(plot_spectrogram(spec, dir / "bad.png").error().code, ErrorCode::invalid_argument);
  spec = chirp_spectrogram();
  std::fill(spec.power_db.begin(), spec.power_db.end(), NAN);
  EXPECT_EQ(plot_spectrogram(spec, dir / "bad.png").error().code, ErrorCode::invalid_argument);
  spec = chirp_spectrogram();
  spec.size = {10, 10};
  EXPECT_EQ(plot_spectrogram(spec, dir / "bad.png").error().code, ErrorCode::invalid_argument);

  auto lines = training_curves();
  lines.series[1].y.pop_back();
  EXPECT_EQ(plot_lines(lines, dir / "bad.png").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(plot_lines(LinePlot{}, dir / "bad.png").error().code, ErrorCode::invalid_argument);

  auto bars = per_class_scores();
  bars.values[2].push_back(1.0);
  EXPECT_EQ(plot_bars(bars, dir / "bad.png").error().code, ErrorCode::invalid_argument);
  bars = per_class_scores();
  bars.values[0][0] = INFINITY;
  EXPECT_EQ(plot_bars(bars, dir / "bad.png").error().code, ErrorCode::invalid_argument);

  auto m = confusion();
  m.values.pop_back();
  EXPECT_EQ(plot_matrix(m, dir / "bad.png").error().code, ErrorCode::invalid_argument);
  m = confusion();
  m.number_format = "%s";  // would make snprintf read a pointer from a double
  EXPECT_EQ(plot_matrix(m, dir / "bad.png").error().code, ErrorCode::invalid_argument);
  m.number_format = "%.2f %f";
  EXPECT_EQ(plot_matrix(m, dir / "bad.png").error().code, ErrorCode::invalid_argument);
}

TEST(Report, ConcurrentPlotsFromThreadsAllSucceed) {
  const auto dir = out_dir();
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      const auto path = dir / ("thread_" + std::to_string(i) + ".png");
      ok[i] = (i % 2 ? plot_bars(per_class_scores(), path) : plot_matrix(confusion(), path)).ok();
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(ok[i]) << i;
    auto header = test::read_png_header(dir / ("thread_" + std::to_string(i) + ".png"));
    EXPECT_TRUE(header.has_value()) << i;
  }
}

TEST(Report, TextWithHashSignIsPrintedLiterally) {
  auto c = per_class_scores();
  c.title = "Scores #1 (subject #3)";
  const auto path = out_dir() / "bars_hash.png";
  ASSERT_TRUE(plot_bars(c, path).ok());
  expect_png(path, c.size.width_px, c.size.height_px);
}
