// `myoexo sweep`: a grid of evaluation settings from a TOML file, one results table. What a person relies on: the
// settings are the ones the file asks for, a mistake in the file is named with its line before anything runs, and an
// interrupted or sharded sweep finishes without redoing finished work.
#include "app/sweep.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "app/app_test_util.hpp"
#include "common/test_data.hpp"

using myoexo::test::fresh_dir;
using myoexo::test::slurp;
namespace fs = std::filesystem;
namespace app = myoexo::app;
using myoexo::ErrorCode;

namespace {

fs::path write_file(const fs::path& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name) << text;
  return dir / name;
}

}  // namespace

TEST(Sweep, TheGridGivesEachModelTheAxesItUses) {
  const auto dir = fresh_dir("files");
  const auto file = write_file(dir, "s.toml",
                               "protocols = [\"L\", \"W\"]\n"
                               "[grid]\n"
                               "model = [\"lda\", \"lda_context\"]\n"
                               "features = [\"HTD\", \"RMS,WL\"]\n"
                               "bandpass = [[20, 450], [20, 150]]\n"
                               "context = [250, 750]\n");
  auto plan = app::load_sweep(file);
  ASSERT_TRUE(plan) << plan.error().message();
  // lda: features x bandpass = 4; lda_context: features x bandpass x context = 8.
  ASSERT_EQ(plan->settings.size(), 12u);
  ASSERT_EQ(plan->protocols.size(), 2u);
  EXPECT_EQ(plan->protocols[0], myoexo::eval::Protocol::within_subject);
  EXPECT_EQ(plan->settings[0].name, "lda-f_HTD-bp_20-450");
  EXPECT_EQ(plan->settings[0].options.context, 0u);
  EXPECT_EQ(plan->settings[0].options.protocol, "L,W");
  EXPECT_EQ(*plan->settings[0].options.front_end.band_high_hz, 450.0);
  const auto& last = plan->settings.back();
  EXPECT_EQ(last.name, "lda_context-f_RMS_WL-bp_20-150-ctx_750");
  EXPECT_EQ(last.options.model, "lda_context");
  EXPECT_EQ(last.options.features, "RMS,WL");
  EXPECT_EQ(last.options.context, 750u);
  EXPECT_EQ(*last.options.front_end.band_low_hz, 20.0);
}

TEST(Sweep, MistakesInTheFileAreNamedWithTheirLine) {
  const auto dir = fresh_dir("files");
  struct Case {
    std::string text, expect;
    ErrorCode code;
    std::size_t line;
  };
  const std::vector<Case> cases = {
      {"protocol = [\"W\"]\n[grid]\nmodel = [\"lda\"]\n", "unknown key 'protocol'", ErrorCode::parse, 1},
      {"[grid]\nmodel = [\"lda\"]\nfeature = [\"HTD\"]\n", "unknown key 'feature' in [grid]", ErrorCode::parse, 3},
      {"[grid]\nmodel = []\n", "'grid.model' is an empty list", ErrorCode::invalid_argument, 2},
      {"protocols = [\"W\"]\n", "no [grid] table", ErrorCode::invalid_argument, 0},
      {"[grid]\nfeatures = [\"HTD\"]\n", "needs model", ErrorCode::invalid_argument, 0},
      {"[grid]\nmodel = [\"lda\"]\nepochs = [10]\n", "grid.epochs applies to networks", ErrorCode::invalid_argument, 3},
      {"[grid]\nmodel = [\"lda\"]\ncontext = [750]\n", "grid.context applies to lda_context", ErrorCode::invalid_argument, 3},
      {"[grid]\nmodel = [\"lda\"]\nbandpass = [[450, 20]]\n", "needs 0 < LOW < HIGH", ErrorCode::invalid_argument, 3},
      {"[grid]\nmodel = [\"lda\"]\nbandpass = [20, 450]\n", "[LOW, HIGH] pairs", ErrorCode::parse, 3},
      {"[grid]\nmodel = [\"lda\", \"lda\"]\n", "lists 'lda' twice", ErrorCode::invalid_argument, 2},
      {"[grid]\nmodel = [\"svm\"]\n", "grid.model:", ErrorCode::invalid_argument, 2},
      {"[grid]\nmodel = [\"lda\"]\nfeatures = [\"NOPE\"]\n", "grid.features:", ErrorCode::invalid_argument, 3},
      {"protocols = [\"X\"]\n[grid]\nmodel = [\"lda\"]\n", "--protocol must be", ErrorCode::invalid_argument, 1},
      {"seeds = [-1]\n[grid]\nmodel = [\"lda\"]\n", "integers >= 0", ErrorCode::invalid_argument, 1},
      {"[grid]\nmodel = [\"lda\"]\ncontext = [5000]\n", "grid.context holds integers in [0, 4000]",
       ErrorCode::invalid_argument, 3},
      {"[grid\nmodel = [\"lda\"]\n", "", ErrorCode::parse, 1},
  };
  for (const auto& c : cases) {
    const auto file = write_file(dir, "bad.toml", c.text);
    auto plan = app::load_sweep(file);
    ASSERT_FALSE(plan) << c.text;
    EXPECT_EQ(plan.error().code, c.code) << c.text << " -> " << plan.error().message();
    EXPECT_NE(plan.error().message().find(c.expect), std::string::npos) << c.text << " -> " << plan.error().message();
    EXPECT_EQ(plan.error().line, c.line) << c.text << " -> " << plan.error().message();
    EXPECT_EQ(plan.error().file, file.string());
  }
  // 120 bands x 100 thresholds = 12000 whole evaluations: refused before anything is expanded.
  std::string big = "[grid]\nmodel = [\"lda\"]\nbandpass = [";
  for (int b = 0; b < 120; ++b) big += (b ? ", [" : "[") + std::to_string(10 + b) + ", 450]";
  big += "]\nthreshold = [";
  for (int t = 0; t < 100; ++t) big += (t ? ", " : "") + std::to_string(t) + ".5";
  big += "]\n";
  const auto huge = app::load_sweep(write_file(dir, "huge.toml", big));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(huge.error().message().find("more than 10000 settings"), std::string::npos) << huge.error().message();
  auto missing = app::load_sweep(dir / "absent.toml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::io);
}

// Two settings on the synthetic set: the table sorted best first; a sharded sweep finished by a plain run keeps the
// shard's tasks; a rerun redoes nothing; a band above the data's Nyquist is refused before anything runs.
TEST(Sweep, RunsWritesASortedTableAndFinishesShardedOrInterruptedWork) {
  const auto data = myoexo::test::write_uci_folder(fresh_dir("data") / "uci-lower-limb", 3000);
  const auto dir = fresh_dir("run");
  const auto file = write_file(dir, "s.toml",
                               "protocols = [\"W\", \"L\"]\n[grid]\nmodel = [\"lda\"]\nfeatures = [\"RMS\", \"HTD\"]\n");
  std::ostringstream o, e;
  app::Context ctx{o, e, std::nullopt, true};
  app::SweepOptions opt;
  opt.file = file;
  opt.data = data;
  opt.out_dir = dir / "out";
  opt.shard = {1, 2};
  ASSERT_TRUE(app::run_sweep(ctx, opt));
  EXPECT_FALSE(fs::exists(opt.out_dir / "sweep.md")) << "a shard writes records only";
  EXPECT_NE(o.str().find("sweep shard 1/2"), std::string::npos) << o.str();
  opt.shard = {};
  std::ostringstream o2;
  app::Context ctx2{o2, e, std::nullopt, true};
  ASSERT_TRUE(app::run_sweep(ctx2, opt));
  const auto j = nlohmann::json::parse(slurp(opt.out_dir / "sweep.json"));
  ASSERT_EQ(j["settings"].size(), 2u);
  const double first = j["settings"][0]["L"]["mean_accuracy"].get<double>();
  const double second = j["settings"][1]["L"]["mean_accuracy"].get<double>();
  EXPECT_GE(first, second) << "not sorted best first";
  EXPECT_EQ(j["sorted_by"], "L mean_accuracy");
  // Each row is that setting's own evaluation.
  const std::string folder = j["settings"][0]["folder"];
  const auto m = nlohmann::json::parse(slurp(opt.out_dir / folder / "metrics.json"));
  EXPECT_EQ(m["protocols"]["L"]["summary"]["mean_accuracy"].get<double>(), first);
  const std::size_t tasks = j["tasks"].get<std::size_t>();
  EXPECT_EQ(tasks, 2u * (2u + 2u));  // 2 settings x (W + L) x 2 subjects
  const std::string half = std::to_string(tasks / 2);
  EXPECT_NE(o2.str().find(half + " run now, " + half + " kept"), std::string::npos) << o2.str();
  const std::string md = slurp(opt.out_dir / "sweep.md");
  EXPECT_NE(md.find("| # | model | features | W mean | W worst | L mean | L worst | folder |"), std::string::npos) << md;
  std::ostringstream o3;
  app::Context ctx3{o3, e, std::nullopt, true};
  ASSERT_TRUE(app::run_sweep(ctx3, opt));
  const std::string all_kept = "0 run now, " + std::to_string(tasks) + " kept";
  EXPECT_NE(o3.str().find(all_kept), std::string::npos) << o3.str();

  const auto nyquist = write_file(dir, "n.toml", "[grid]\nmodel = [\"lda\"]\nbandpass = [[20, 450], [20, 2000]]\n");
  opt.file = nyquist;
  opt.out_dir = dir / "nyquist";
  auto refused = app::run_sweep(ctx, opt);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("Nyquist"), std::string::npos) << refused.error().message();
  EXPECT_FALSE(fs::exists(dir / "nyquist"));
}
