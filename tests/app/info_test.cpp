// `myoexo info`: table and JSON for folders and single files; real lower-limb data when present.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/app_test_util.hpp"
#include "common/test_data.hpp"

using myoexo::test::fresh_dir;
using myoexo::test::run_myoexo;

TEST(Info, JsonOnSyntheticFolderListsSubjectsClassesAndChannels) {
  const auto root = myoexo::test::write_uci_folder(fresh_dir("data") / "uci-lower-limb");
  const auto r = run_myoexo({"info", root.string(), "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "folder");
  EXPECT_EQ(j["n_recordings"], 6);
  EXPECT_EQ(j["subjects"], (std::vector<std::string>{"1N", "2A"}));
  EXPECT_EQ(j["classes"], (std::vector<std::string>{"gait", "sitting", "standing"}));
  EXPECT_EQ(j["channels"], (std::vector<std::string>{"RF", "BF", "VM", "ST", "FX"}));
  EXPECT_EQ(j["sample_rates_hz"], (std::vector<double>{1000.0}));
  EXPECT_NEAR(j["total_duration_s"].get<double>(), 18.0, 1e-9);
  EXPECT_EQ(j["by_subject"]["1N"]["gait"], 1);
  ASSERT_EQ(j["recordings"].size(), 6u);
  EXPECT_EQ(j["recordings"][0]["n_samples"], 3000);
}

TEST(Info, TableNamesSubjectsChannelsRatesAndFiles) {
  const auto root = myoexo::test::write_uci_folder(fresh_dir("data") / "set");
  const auto r = run_myoexo({"info", root.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("6 recording(s), 2 subject(s), 3 class(es)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("RF BF VM ST FX"), std::string::npos);
  EXPECT_NE(r.out.find("1000 Hz"), std::string::npos);
  EXPECT_NE(r.out.find("1Nmar.txt"), std::string::npos);
  EXPECT_NE(r.out.find("duplicates  none"), std::string::npos);
}

TEST(Info, DuplicateFilesAreReported) {
  const auto root = fresh_dir("dup");
  myoexo::test::write_uci_file(root / "1Npie.txt", 2000, 70.0, 5);
  myoexo::test::write_uci_file(root / "2Npie.txt", 2000, 70.0, 5);
  const auto r = run_myoexo({"info", root.string(), "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["duplicates"].size(), 1u);
}

TEST(Info, SingleFileReportsKindFileAndItsShape) {
  const auto dir = fresh_dir("one");
  myoexo::test::write_uci_file(dir / "3Nsen.txt", 1500);
  const auto r = run_myoexo({"info", (dir / "3Nsen.txt").string(), "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "file");
  EXPECT_EQ(j["subjects"], (std::vector<std::string>{"3N"}));
  EXPECT_EQ(j["classes"], (std::vector<std::string>{"sitting"}));
  EXPECT_EQ(j["recordings"][0]["n_samples"], 1500);
  EXPECT_EQ(j["recordings"][0]["units"][4], "deg");
}

TEST(Info, RelativePathIsFoundBelowDataRoot) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data / "uci-lower-limb", 1200);
  const auto r = run_myoexo({"--data", data.string(), "info", "uci-lower-limb", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["n_recordings"], 6);
}

TEST(Info, MissingPathFailsWithClearMessageOnStderr) {
  const auto r = run_myoexo({"info", "/nonexistent/myoexo/nothing.txt"});
  EXPECT_NE(r.rc, 0);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("myoexo: error:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/myoexo/nothing.txt"), std::string::npos) << r.err;
}

TEST(Info, RealLowerLimbSetHasSixteenSubjectsAndThreeClasses) {
  const auto root = myoexo::test::data_root();
  if (!root || !std::filesystem::is_directory(*root / "uci-lower-limb")) GTEST_SKIP() << "no real data";
  const auto r = run_myoexo({"--quiet", "info", (*root / "uci-lower-limb").string(), "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["subjects"].size(), 16u);
  EXPECT_EQ(j["classes"], (std::vector<std::string>{"gait", "sitting", "standing"}));
  EXPECT_EQ(j["sample_rates_hz"], (std::vector<double>{1000.0}));
  EXPECT_GT(j["rows_skipped"].get<std::size_t>(), 0u);  // the README's FX-only tail rows
  EXPECT_GE(j["duplicates"].size(), 2u);                 // 1Npie == 2Npie, 1Nsen == 2Nsen
  EXPECT_TRUE(j["unreadable"].empty());
}
