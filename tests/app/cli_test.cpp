// The CLI front end: help shows defaults, usage errors exit 2, --data and $MYOEXO_DATA are honoured.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

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

TEST(Cli, EvaluateThresholdMustBeANonNegativeNumber) {
  const auto out = myoexo::test::fresh_dir("never");
  for (const char* bad : {"-0.001", "abc", "", "nan"}) {
    const auto r = run_myoexo({"evaluate", "--threshold", bad, "--out", (out / "eval").string()});
    EXPECT_EQ(r.rc, myoexo::app::kExitUsage) << "--threshold '" << bad << "': " << r.err;
    EXPECT_NE(r.err.find("--threshold"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(out / "eval"));
}

TEST(Cli, NotANumberIsRefusedByEveryFloatingPointOption) {
  std::vector<std::vector<std::string>> cases = {
      {"run", "--replay", "x.txt", "--train-on", "d", "--reject", "nan"},
      {"run", "--replay", "x.txt", "--train-on", "d", "--seconds", "nan"},
      {"run", "--replay", "x.txt", "--train-on", "d", "--control-hz", "nan"},
      {"run", "--port", "/dev/null", "--model", "m.json", "--rate", "nan"},
      {"record", "--port", "/dev/null", "--out", "x.csv", "--rate", "nan"},
      {"record", "--port", "/dev/null", "--out", "x.csv", "--seconds", "inf"},
  };
#ifdef MYOEXO_HAVE_TORCH
  cases.push_back({"calibrate", "--fine-tune-lr", "nan"});  // the command exists only with LibTorch
#endif
  for (const auto& args : cases) {
    const auto r = run_myoexo(args);
    EXPECT_EQ(r.rc, myoexo::app::kExitUsage) << args.back() << " for " << args[args.size() - 2] << ": " << r.err;
    EXPECT_NE(r.err.find("finite"), std::string::npos) << r.err;
  }
}

// What a person scripting the program relies on: lists take commas, protocols their long names, --json gives one
// JSON document equal to the file the command wrote, the help says what the exit codes mean.
TEST(Cli, ListsTakeCommasProtocolsLongNamesAndJsonIsTheWrittenResult) {
  const auto data = myoexo::test::fresh_dir("data");
  myoexo::test::write_uci_folder(data / "uci-lower-limb", 3000);
  const auto out = myoexo::test::fresh_dir("out");
  // Held-out subjects given comma-separated, the protocol by its long name.
  const auto r = run_myoexo({"-q", "--data", data.string(), "evaluate", "--protocol", "within", "--subject", "1N,2A",
                             "--no-plots", "--json", "--out", (out / "eval").string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto printed = nlohmann::json::parse(r.out);  // stdout is one JSON document, nothing else
  std::ifstream f(out / "eval" / "metrics.json");
  const auto written = nlohmann::json::parse(f);
  EXPECT_EQ(printed, written);
  ASSERT_TRUE(printed["protocols"].contains("W"));
  EXPECT_FALSE(printed["protocols"].contains("L"));
  std::vector<std::string> folds;
  for (const auto& fold : printed["protocols"]["W"]["per_fold"]) folds.push_back(fold["name"]);
  EXPECT_EQ(folds, (std::vector<std::string>{"1N", "2A"}));
  // The same with the values space-separated, and "loso" for L.
  const auto l = run_myoexo({"-q", "--data", data.string(), "evaluate", "--protocol", "loso", "--subject", "1N", "2A",
                             "--no-plots", "--json", "--out", (out / "eval_l").string()});
  ASSERT_EQ(l.rc, 0) << l.err;
  EXPECT_TRUE(nlohmann::json::parse(l.out)["protocols"].contains("L"));
  // An unknown protocol names the accepted ones.
  const auto bad = run_myoexo({"--data", data.string(), "evaluate", "--protocol", "crossed", "--out",
                               (out / "never").string()});
  EXPECT_EQ(bad.rc, myoexo::app::kExitUsage);
  EXPECT_NE(bad.err.find("loso"), std::string::npos) << bad.err;
  // The help says what the exit codes mean, and what the main job does.
  const auto help = run_myoexo({"--help"});
  EXPECT_NE(help.out.find("Exit status: 0"), std::string::npos) << help.out;
  const auto rep = run_myoexo({"report", "--help"});
  EXPECT_NE(rep.out.find("replays a held-out recording"), std::string::npos) << rep.out;
}
