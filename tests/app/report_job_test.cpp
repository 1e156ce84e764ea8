// `myoexo report`: dataset.json, one spectrogram per class and summary.md linking them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/app_test_util.hpp"
#include "common/test_data.hpp"
#include "report/png_check.hpp"

using myoexo::test::fresh_dir;
using myoexo::test::slurp;
using myoexo::test::run_myoexo;
namespace fs = std::filesystem;

namespace {
void expect_report(const fs::path& out, std::size_t n_subjects) {
  const auto j = nlohmann::json::parse(slurp(out / "dataset.json"));
  EXPECT_EQ(j["subjects"].size(), n_subjects);
  const std::string md = slurp(out / "summary.md");
  EXPECT_NE(md.find("[dataset.json](dataset.json)"), std::string::npos) << md;
  for (const char* label : {"gait", "sitting", "standing"}) {
    const std::string stem = std::string("spectrogram_") + label;
    EXPECT_TRUE(myoexo::test::read_png_header(out / (stem + ".png")).has_value()) << stem;
    EXPECT_TRUE(fs::exists(out / (stem + ".csv"))) << stem;
    EXPECT_NE(md.find("(" + stem + ".png)"), std::string::npos) << stem;
  }
}
}  // namespace

TEST(ReportJob, WritesDatasetJsonSpectrogramsAndSummaryOnSyntheticSet) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data / "uci-lower-limb", 2000);
  const auto out = fresh_dir("report") / "r";
  const auto r = run_myoexo({"--data", data.string(), "report", "--out", out.string(), "--quick"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("report written to"), std::string::npos);
  EXPECT_NE(r.err.find("step 1/"), std::string::npos);  // progress goes to stderr
  expect_report(out, 2);
  EXPECT_NE(slurp(out / "summary.md").find("Subject 1N"), std::string::npos);
  // The replay streams the evaluation's declared lda_context LDA (log amplitudes, 750 past samples) and says so.
  const auto model = nlohmann::json::parse(slurp(out / "replay" / "model.json"));
  EXPECT_EQ(model["context_samples"], 750);
  EXPECT_EQ(model["log_amplitude"], true);
  EXPECT_EQ(model["lda"]["n_inputs"], 4 * 9 * 2);
  EXPECT_NE(slurp(out / "summary.md").find("`lda_context` LDA"), std::string::npos);
  // The knee-angle step: the ridge's table and the sitting replay with the knee following the estimate.
  EXPECT_NE(slurp(out / "summary.md").find("Continuous knee angle from EMG"), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "knee_angle" / "angle_metrics.json"));
  const auto prop = nlohmann::json::parse(slurp(out / "replay_proportional" / "summary.json"));
  EXPECT_TRUE(prop["knee_tracking"]["proportional"].get<bool>());
  const auto off = nlohmann::json::parse(slurp(out / "replay_sitting" / "summary.json"));
  EXPECT_EQ(off["knee_tracking"]["following_fraction"].get<double>(), 0.0);
}

TEST(ReportJob, MissingDataSetFailsWithHint) {
  const auto data = fresh_dir("empty");
  const auto r = run_myoexo({"--data", data.string(), "report", "--out", (data / "r").string()});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("download"), std::string::npos) << r.err;
}

TEST(ReportJob, UnknownSubjectOrChannelIsAnError) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data / "uci-lower-limb", 1200);
  auto r = run_myoexo({"--data", data.string(), "report", "--out", (data / "r").string(), "--subject", "99Z"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("99Z"), std::string::npos) << r.err;
  r = run_myoexo({"--data", data.string(), "report", "--out", (data / "r").string(), "--channel", "XX"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("XX"), std::string::npos) << r.err;
}

TEST(ReportJob, RealLowerLimbReport) {
  const auto root = myoexo::test::data_root();
  if (!root || !fs::is_directory(*root / "uci-lower-limb")) GTEST_SKIP() << "no real data";
  const auto out = fresh_dir("real");
  // --quick: the CNN step trains 2 epochs (L: 1) with one held-out subject, enough to prove the chain.
  const auto r = run_myoexo({"--quiet", "--data", root->string(), "report", "--out", out.string(), "--quick"});
  ASSERT_EQ(r.rc, 0) << r.err;
  expect_report(out, 16);
#ifdef MYOEXO_HAVE_TORCH
  // The CNN step's evaluation and the replay of the held-out subject with its leave-one-subject-out CNN.
  EXPECT_TRUE(fs::exists(out / "evaluation_cnn" / "metrics.json"));
  EXPECT_TRUE(fs::exists(out / "evaluation_cnn" / "models" / "L_1A.pt"));
  EXPECT_TRUE(fs::exists(out / "replay_cnn" / "summary.json"));
  const std::string md = slurp(out / "summary.md");
  EXPECT_NE(md.find("Quick run"), std::string::npos);
  EXPECT_NE(md.find("The same replay with the CNN"), std::string::npos);
#endif
  // Subject 1A's sitting leg extension with the knee following the EMG estimate, on real data.
  const auto prop = nlohmann::json::parse(slurp(out / "replay_proportional" / "summary.json"));
  EXPECT_GT(prop["knee_tracking"]["following_fraction"].get<double>(), 0.2);
  EXPECT_EQ(prop["safety"]["setpoint_limit_violations"].get<int>(), 0);
}
