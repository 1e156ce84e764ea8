// An evaluation split into tasks: `evaluate --shard I/N` on several processes, `myoexo merge`, `evaluate --resume`.
// What a person relies on: the merged report is the one a single run writes, and a damaged, foreign or incomplete
// set of records is refused with nothing written.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/app_test_util.hpp"
#include "app/evaluate.hpp"
#include "app/evaluate_tasks.hpp"
#include "common/test_data.hpp"
#include "io/io.hpp"

using myoexo::test::fresh_dir;
using myoexo::test::slurp;
namespace fs = std::filesystem;
namespace app = myoexo::app;
using myoexo::ErrorCode;

namespace {

std::size_t count_records(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    n += e.path().filename().string().rfind("task_", 0) == 0 && e.path().extension() == ".json";
  return n;
}

}  // namespace

TEST(Shard, ParsesIOverNAndRefusesAnythingElse) {
  auto a = app::parse_shard("0/1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->whole());
  auto b = app::parse_shard("2/3");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->index, 2u);
  EXPECT_EQ(b->count, 3u);
  EXPECT_TRUE(b->owns(5));
  EXPECT_FALSE(b->owns(4));
  for (const char* bad : {"3/3", "1/0", "a/b", "1", "/2", "2/", "-1/3", "1/3x", "1/99999999999", ""}) {
    auto r = app::parse_shard(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(r.error().message().find("--shard"), std::string::npos) << r.error().message();
  }
}

// The task list is fixed by the settings alone: seeds outermost, then protocols, then folds.
TEST(Shard, TheTaskListIsSeedsThenProtocolsThenFolds) {
  using P = myoexo::eval::Protocol;
  const auto tasks = app::make_task_list({7, 8}, {P::within_subject, P::pooled, P::leave_one_subject_out}, {"1A", "2A"});
  ASSERT_EQ(tasks.size(), 10u);
  EXPECT_EQ(tasks[0].fold_name, "1A");
  EXPECT_EQ(tasks[2].protocol, P::pooled);
  EXPECT_EQ(tasks[2].fold_name, "pooled");
  EXPECT_EQ(tasks[4].protocol, P::leave_one_subject_out);
  EXPECT_EQ(tasks[4].fold, 1u);
  EXPECT_EQ(tasks[5].seed, 8u);
  EXPECT_EQ(tasks[5].seed_index, 1u);
  for (std::size_t i = 0; i < tasks.size(); ++i) EXPECT_EQ(tasks[i].task, i);
}

// Three shards of the LDA protocols on the real data, merged: the same metrics.json and summary.md, byte for byte,
// as one process running everything.
TEST(Shard, ThreeShardsMergedWriteTheWholeRunsReport) {
  const auto root = myoexo::test::data_root();
  if (!root || !fs::is_directory(*root / "uci-lower-limb")) GTEST_SKIP() << "uci-lower-limb data absent";
  const auto out = fresh_dir("shards");
  std::ostringstream o, e;
  app::Context ctx{o, e, root->string(), true};
  app::EvaluateOptions opt;
  opt.plots = false;
  opt.out_dir = out / "whole";
  ASSERT_TRUE(app::run_evaluate(ctx, opt));
  std::vector<fs::path> shards;
  std::size_t records = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    opt.out_dir = out / ("shard" + std::to_string(i));
    opt.shard = {i, 3};
    auto s = app::run_evaluate(ctx, opt);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_FALSE(fs::exists(opt.out_dir / "metrics.json")) << "a shard writes records only";
    records += count_records(opt.out_dir / "tasks");
    shards.push_back(opt.out_dir);
  }
  EXPECT_EQ(records, 16u + 1u + 16u);  // W and L: one task per subject; P: one
  EXPECT_EQ(count_records(out / "whole" / "tasks"), records);

  app::MergeOptions m;
  m.shards = shards;
  m.out_dir = out / "merged";
  m.plots = false;
  std::ostringstream mo, me;
  app::Context mctx{mo, me, root->string(), true};
  auto merged = app::run_merge(mctx, m);
  ASSERT_TRUE(merged) << merged.error().message();
  EXPECT_EQ(slurp(out / "merged" / "metrics.json"), slurp(out / "whole" / "metrics.json"));
  EXPECT_EQ(slurp(out / "merged" / "summary.md"), slurp(out / "whole" / "summary.md"));
  const auto j = nlohmann::json::parse(slurp(out / "merged" / "metrics.json"));
  EXPECT_NEAR(j["protocols"]["L"]["summary"]["mean_accuracy"].get<double>(), 0.7083, 1e-4);
  EXPECT_TRUE(j.contains("post_processed"));
  EXPECT_NE(mo.str().find("33 tasks merged"), std::string::npos) << mo.str();

  // A folder holding no records at all (a shard that never started, a typo) is named.
  m.shards = {out / "whole" / "nothing-here"};
  m.out_dir = out / "empty";
  auto none = app::run_merge(mctx, m);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::empty);
  EXPECT_NE(none.error().message().find("holds no task records"), std::string::npos) << none.error().message();
  EXPECT_FALSE(fs::exists(out / "empty"));
  // A record whose JSON was replaced by something else entirely is refused naming the file.
  fs::create_directories(out / "hostile" / "tasks");
  std::ofstream(out / "hostile" / "tasks" / "task_00000.json") << "[1, 2, 3]";
  m.shards = {out / "hostile"};
  auto hostile = app::run_merge(mctx, m);
  ASSERT_FALSE(hostile);
  EXPECT_EQ(hostile.error().code, ErrorCode::parse);
  EXPECT_NE(hostile.error().message().find("task_00000.json"), std::string::npos) << hostile.error().message();

  // A shard missing: the tasks without a result are named and nothing is written.
  m.shards = {shards[0], shards[1]};
  m.out_dir = out / "incomplete";
  auto incomplete = app::run_merge(mctx, m);
  ASSERT_FALSE(incomplete);
  EXPECT_EQ(incomplete.error().code, ErrorCode::empty);
  EXPECT_NE(incomplete.error().message().find("11 of 33 tasks have no result"), std::string::npos)
      << incomplete.error().message();
  EXPECT_FALSE(fs::exists(out / "incomplete"));

  // A shard of another run (another ZC/SSC threshold) is refused, naming the setting that differs.
  opt.out_dir = out / "other";
  opt.shard = {2, 3};
  opt.zc_ssc_threshold = 0.0;
  ASSERT_TRUE(app::run_evaluate(ctx, opt));
  m.shards = {shards[0], shards[1], out / "other"};
  m.out_dir = out / "mixed";
  auto mixed = app::run_merge(mctx, m);
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().code, ErrorCode::mismatch);
  EXPECT_NE(mixed.error().message().find("options.threshold"), std::string::npos) << mixed.error().message();
  EXPECT_FALSE(fs::exists(out / "mixed" / "metrics.json"));
}

// A run stopped half way (here: only shard 0 of 2 finished) continues with --resume: the finished tasks are kept,
// the rest run, and the report is the one an uninterrupted run writes. A damaged record is named, not skipped.
TEST(Shard, AResumedRunRedoesOnlyTheUnfinishedTasks) {
  const auto data = myoexo::test::write_uci_folder(fresh_dir("data") / "uci-lower-limb", 3000);
  const auto out = fresh_dir("resume");
  std::ostringstream o, e;
  app::Context ctx{o, e, std::nullopt, true};
  app::EvaluateOptions opt;
  opt.data = data;
  opt.plots = false;
  opt.out_dir = out / "fresh";
  ASSERT_TRUE(app::run_evaluate(ctx, opt));
  const std::size_t n_tasks = count_records(out / "fresh" / "tasks");
  ASSERT_GE(n_tasks, 3u);

  opt.out_dir = out / "stopped";
  opt.shard = {0, 2};
  ASSERT_TRUE(app::run_evaluate(ctx, opt));
  const std::size_t done = count_records(out / "stopped" / "tasks");
  EXPECT_EQ(done, (n_tasks + 1) / 2);

  opt.shard = {};
  opt.resume = true;
  auto ds = myoexo::io::load_dataset(data);
  ASSERT_TRUE(ds);
  auto resumed = app::evaluate_recordings(ctx, ds->recordings, opt);
  ASSERT_TRUE(resumed) << resumed.error().message();
  EXPECT_EQ(resumed->tasks_reused, done);
  EXPECT_EQ(resumed->tasks_run, n_tasks - done);
  EXPECT_EQ(slurp(out / "stopped" / "metrics.json"), slurp(out / "fresh" / "metrics.json"));

  // A record cut short (a disk that filled up) is an error naming the file.
  const fs::path victim = out / "stopped" / "tasks" / "task_00001.json";
  const std::string whole = slurp(victim);
  std::ofstream(victim, std::ios::trunc) << whole.substr(0, whole.size() / 2);
  auto damaged = app::evaluate_recordings(ctx, ds->recordings, opt);
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ErrorCode::parse);
  EXPECT_NE(damaged.error().message().find("task_00001.json"), std::string::npos) << damaged.error().message();

  // Without --resume a run starts over: the stale records go, every task runs.
  opt.resume = false;
  auto again = app::evaluate_recordings(ctx, ds->recordings, opt);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->tasks_run, n_tasks);
  EXPECT_EQ(again->tasks_reused, 0u);
  // --shard applies to the class protocols only.
  opt.shard = {1, 2};
  opt.target = "knee_angle";
  auto angle = app::run_evaluate(ctx, opt);
  ASSERT_FALSE(angle);
  EXPECT_NE(angle.error().message().find("--shard"), std::string::npos);
}
