// `myoexo spectrogram`: PNG + CSV, the numbers put the tone where it is, and clear errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "app/app_test_util.hpp"
#include "report/png_check.hpp"

using myoexo::test::fresh_dir;
using myoexo::test::run_myoexo;

TEST(Spectrogram, WritesPngAndCsvWithTonePeakInRightBin) {
  const auto dir = fresh_dir("s");
  myoexo::test::write_uci_file(dir / "1Nmar.txt", 4000, 125.0);  // 125 Hz = bin 32 at 256 / 1000 Hz
  const auto prefix = dir / "out" / "rf";
  const auto r = run_myoexo({"spectrogram", (dir / "1Nmar.txt").string(), "--channel", "RF", "--out",
                             prefix.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto png = myoexo::test::read_png_header(dir / "out" / "rf.png");
  ASSERT_TRUE(png.has_value());
  EXPECT_EQ(png->width, 1200u);
  auto t = myoexo::test::read_table(dir / "out" / "rf.csv");
  ASSERT_EQ(t.header, (std::vector<std::string>{"time_s", "frequency_hz", "power_db"}));
  const std::size_t n_seg = (4000 - 128) / 128, n_bins = 129;
  ASSERT_EQ(t.rows.size(), n_seg * n_bins);
  EXPECT_DOUBLE_EQ(t.rows[0][0], 0.128);  // first segment centre: 128 samples at 1 kHz
  // In every segment the loudest bin is the tone's.
  for (std::size_t s = 0; s < n_seg; ++s) {
    auto first = t.rows.begin() + static_cast<std::ptrdiff_t>(s * n_bins);
    auto best = std::max_element(first, first + n_bins, [](auto& a, auto& b) { return a[2] < b[2]; });
    EXPECT_DOUBLE_EQ((*best)[1], 125.0) << "segment " << s;
  }
}

TEST(Spectrogram, HammingBandpassAndCustomSegmentsRun) {
  const auto dir = fresh_dir("s");
  myoexo::test::write_uci_file(dir / "1Npie.txt", 3000);
  const auto r = run_myoexo({"spectrogram", (dir / "1Npie.txt").string(), "--channel", "BF", "--nperseg", "128",
                             "--noverlap", "64", "--window", "hamming", "--bandpass", "20", "450", "--max-freq",
                             "300", "--out", (dir / "bf").string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto t = myoexo::test::read_table(dir / "bf.csv");
  EXPECT_EQ(t.rows.size(), ((3000 - 64) / 64) * 65u);
}

TEST(Spectrogram, BadInputsGiveNonZeroExitAndClearMessage) {
  const auto dir = fresh_dir("s");
  myoexo::test::write_uci_file(dir / "1Nmar.txt", 1000);
  const std::string in = (dir / "1Nmar.txt").string(), out = (dir / "x").string();
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"spectrogram", in, "--channel", "XX", "--out", out}, "unknown channel 'XX'"},
      {{"spectrogram", in, "--out", out}, "--channel"},
      {{"spectrogram", in, "--channel", "RF", "--window", "kaiser", "--out", out}, "--window"},
      {{"spectrogram", in, "--channel", "RF", "--noverlap", "256", "--out", out}, "--noverlap"},
      {{"spectrogram", in, "--channel", "RF", "--nperseg", "4096", "--out", out}, "fewer than one segment"},
      {{"spectrogram", in, "--channel", "RF", "--out", (dir / "1Nmar.txt" / "x").string()}, "cannot create folder"},
      {{"spectrogram", (dir / "nope.txt").string(), "--channel", "RF", "--out", out}, "nope.txt"},
  };
  for (const auto& c : cases) {
    const auto r = run_myoexo(c.args);
    EXPECT_NE(r.rc, 0) << c.needle;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << "stderr: " << r.err;
  }
}
