// `myoexo filter`: output shape, that the numbers are the causal SosFilter's, and clear errors.
#include <gtest/gtest.h>

#include "app/app_test_util.hpp"
#include "dsp/sos_filter.hpp"
#include "io/io.hpp"

using myoexo::test::fresh_dir;
using myoexo::test::run_myoexo;
namespace io = myoexo::io;
namespace dsp = myoexo::dsp;

namespace {
io::Recording read_back(const std::filesystem::path& csv) {
  io::CsvOptions o;
  o.sample_rate_hz = 1000.0;
  auto rec = io::read_csv(csv, o);
  EXPECT_TRUE(rec.ok()) << (rec.ok() ? "" : rec.error().message());
  return rec.ok() ? rec.value() : io::Recording{};
}
}  // namespace

TEST(Filter, CausalBandpassWritesSameShapeAndMatchesSosFilter) {
  const auto dir = fresh_dir("f");
  myoexo::test::write_uci_file(dir / "1Nmar.txt", 2500);
  const auto out = dir / "out" / "filtered.csv";
  const auto r = run_myoexo({"filter", (dir / "1Nmar.txt").string(), "--bandpass", "20", "450", "--order", "4",
                             "--out", out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("5 channels x 2500 samples"), std::string::npos) << r.out;

  auto in = io::read_recording(dir / "1Nmar.txt").value();
  auto got = read_back(out);
  ASSERT_EQ(got.channel_names, (std::vector<std::string>{"RF", "BF", "VM", "ST", "FX"}));
  ASSERT_EQ(got.n_samples, 2500u);

  // Reference: the same design run directly on the 4 EMG channels; FX (deg) is copied unchanged.
  auto design = dsp::design_bandpass(4, 20, 450, 1000).value();
  auto filter = dsp::SosFilter::create(design, 4).value();
  std::vector<double> emg(in.samples.begin(), in.samples.begin() + 4 * 2500);
  ASSERT_TRUE(filter.process_channel_major(emg, emg, 2500).ok());
  double worst = 0;
  for (std::size_t i = 0; i < emg.size(); ++i) worst = std::max(worst, std::abs(emg[i] - got.samples[i]));
  EXPECT_LT(worst, 1e-12);
  for (std::size_t i = 0; i < 2500; ++i) ASSERT_EQ(got.channel(4)[i], in.channel(4)[i]);
}

TEST(Filter, ZeroPhaseWithNotchAndChosenChannelsRuns) {
  const auto dir = fresh_dir("f");
  myoexo::test::write_uci_file(dir / "1Nsen.txt", 3000);
  const auto out = dir / "zp.csv";
  const auto r = run_myoexo({"filter", (dir / "1Nsen.txt").string(), "--bandpass", "20", "450", "--notch", "50",
                             "--zero-phase", "--channels", "RF,BF", "--out", out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto in = io::read_recording(dir / "1Nsen.txt").value();
  auto got = read_back(out);
  ASSERT_EQ(got.n_samples, 3000u);
  // VM was not chosen: unchanged. RF was: changed.
  EXPECT_EQ(std::vector<double>(got.channel(2).begin(), got.channel(2).end()),
            std::vector<double>(in.channel(2).begin(), in.channel(2).end()));
  EXPECT_NE(got.channel(0)[100], in.channel(0)[100]);
}

TEST(Filter, EdfOutputIsWrittenAndReadsBack) {
  const auto dir = fresh_dir("f");
  myoexo::test::write_uci_file(dir / "1Npie.txt", 2000);
  const auto out = dir / "f.edf";
  const auto r = run_myoexo({"filter", (dir / "1Npie.txt").string(), "--bandpass", "20", "450", "--out",
                             out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto back = io::read_edf(out);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->n_channels(), 5u);
  EXPECT_GE(back->n_samples, 2000u);  // EDF pads to whole data records
}

TEST(Filter, BadInputsGiveNonZeroExitAndClearMessage) {
  const auto dir = fresh_dir("f");
  myoexo::test::write_uci_file(dir / "1Nmar.txt", 1000);
  const std::string in = (dir / "1Nmar.txt").string(), out = (dir / "o.csv").string();
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"filter", (dir / "missing.txt").string(), "--bandpass", "20", "450", "--out", out}, "missing.txt"},
      {{"filter", in, "--bandpass", "abc", "450", "--out", out}, "--bandpass"},
      {{"filter", in, "--bandpass", "20", "--out", out}, "--bandpass"},
      {{"filter", in, "--bandpass", "450", "20", "--out", out}, "--bandpass 450 20"},
      {{"filter", in, "--bandpass", "20", "600", "--out", out}, "--bandpass 20 600"},
      {{"filter", in, "--bandpass", "20", "450", "--order", "12", "--out", out}, "--order"},
      {{"filter", in, "--bandpass", "20", "450", "--channels", "XX", "--out", out}, "unknown channel 'XX'"},
      {{"filter", in, "--out", out}, "--bandpass"},
      {{"filter", in, "--bandpass", "20", "450"}, "--out"},
  };
  for (const auto& c : cases) {
    const auto r = run_myoexo(c.args);
    EXPECT_NE(r.rc, 0) << c.needle;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << "stderr: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}
