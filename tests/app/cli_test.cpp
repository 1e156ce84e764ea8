// The CLI front end: help shows defaults, usage errors exit 2, --data and $MYOEXO_DATA are honoured.
#include <gtest/gtest.h>

#include "app/app_test_util.hpp"

using myoexo::test::run_myoexo;

TEST(Cli, HelpListsSubcommandsAndExitsZero) {
  const auto r = run_myoexo({"--help"});
  EXPECT_EQ(r.rc, 0);
  for (const char* cmd : {"info", "filter", "spectrogram", "features", "download", "report", "--data"})
    EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
}

TEST(Cli, SubcommandHelpShowsDefaults) {
  const auto r = run_myoexo({"spectrogram", "--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("256"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("128"), std::string::npos);
  EXPECT_NE(r.out.find("hann"), std::string::npos);
  const auto f = run_myoexo({"features", "--help"});
  EXPECT_NE(f.out.find("HTD"), std::string::npos);
  EXPECT_NE(f.out.find("250"), std::string::npos);
  const auto d = run_myoexo({"download", "--help"});
  EXPECT_NE(d.out.find("archive.ics.uci.edu"), std::string::npos);
  EXPECT_NE(d.out.find("30"), std::string::npos);
}

TEST(Cli, NoSubcommandOrUnknownOptionIsUsageError) {
  EXPECT_EQ(run_myoexo({}).rc, myoexo::app::kExitUsage);
  const auto r = run_myoexo({"info", "x", "--bogus"});
  EXPECT_EQ(r.rc, myoexo::app::kExitUsage);
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
  EXPECT_EQ(run_myoexo({"frobnicate"}).rc, myoexo::app::kExitUsage);
}

TEST(Cli, DataOptionMayFollowTheSubcommand) {
  const auto data = myoexo::test::fresh_dir("data");
  myoexo::test::write_uci_folder(data / "uci-lower-limb", 1100);
  const auto r = run_myoexo({"info", "uci-lower-limb", "--data", data.string()});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("6 recording(s)"), std::string::npos);
}
