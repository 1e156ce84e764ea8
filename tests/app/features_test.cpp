// `myoexo features`: header, one row per window with its start sample, sets from a TOML config, errors.
#include <gtest/gtest.h>

#include <fstream>

#include "app/app_test_util.hpp"

using myoexo::test::fresh_dir;
using myoexo::test::run_myoexo;

TEST(Features, HtdCsvHasWindowStartThenChannelFeatureColumns) {
  const auto dir = fresh_dir("x");
  myoexo::test::write_uci_file(dir / "1Nmar.txt", 1000);
  const auto out = dir / "f.csv";
  const auto r = run_myoexo({"features", (dir / "1Nmar.txt").string(), "--set", "HTD", "--window", "250",
                             "--increment", "50", "--out", out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto t = myoexo::test::read_table(out);
  std::vector<std::string> want{"window_start"};
  for (const char* ch : {"RF", "BF", "VM", "ST"})  // FX is an angle: not an EMG channel by default
    for (const char* f : {"MAV", "WL", "ZC", "SSC"}) want.push_back(std::string(ch) + "_" + f);
  EXPECT_EQ(t.header, want);
  ASSERT_EQ(t.rows.size(), (1000u - 250u) / 50u + 1u);
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    ASSERT_EQ(t.rows[i].size(), want.size());
    EXPECT_EQ(t.rows[i][0], double(50 * i));
    EXPECT_GT(t.rows[i][1], 0.0);  // RF MAV of a 50 mV tone
  }
}

TEST(Features, BandpassChannelsAndConfigSetAreHonoured) {
  const auto dir = fresh_dir("x");
  myoexo::test::write_uci_file(dir / "1Nmar.txt", 1200);
  std::ofstream(dir / "features.toml") << "[sets.mine]\nfeatures = [\"RMS\", \"WL\"]\n";
  const auto out = dir / "g.csv";
  const auto r = run_myoexo({"features", (dir / "1Nmar.txt").string(), "--config", (dir / "features.toml").string(),
                             "--set", "mine", "--channels", "RF,FX", "--bandpass", "20", "450", "--window", "200",
                             "--increment", "100", "--out", out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto t = myoexo::test::read_table(out);
  EXPECT_EQ(t.header, (std::vector<std::string>{"window_start", "RF_RMS", "RF_WL", "FX_RMS", "FX_WL"}));
  EXPECT_EQ(t.rows.size(), (1200u - 200u) / 100u + 1u);
}

TEST(Features, BadInputsGiveNonZeroExitAndClearMessage) {
  const auto dir = fresh_dir("x");
  myoexo::test::write_uci_file(dir / "1Nmar.txt", 600);
  const std::string in = (dir / "1Nmar.txt").string(), out = (dir / "o.csv").string();
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"features", in, "--set", "NOPE", "--out", out}, "NOPE"},
      {{"features", in, "--window", "2", "--out", out}, "--window"},
      {{"features", in, "--window", "x", "--out", out}, "--window"},
      {{"features", in, "--increment", "0", "--out", out}, "--increment"},
      {{"features", in, "--window", "5000", "--out", out}, "error"},
      {{"features", in, "--channels", "XX", "--out", out}, "unknown channel 'XX'"},
      {{"features", in, "--config", (dir / "none.toml").string(), "--out", out}, "none.toml"},
      {{"features", (dir / "nope.txt").string(), "--out", out}, "nope.txt"},
  };
  for (const auto& c : cases) {
    const auto r = run_myoexo(c.args);
    EXPECT_NE(r.rc, 0) << c.needle;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << "stderr: " << r.err;
  }
}
