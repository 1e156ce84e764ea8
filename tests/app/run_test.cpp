// `myoexo run` (replay -> pipeline -> intents -> control -> MuJoCo) and `myoexo record` (serial -> file).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "app/app_test_util.hpp"
#include "app/run.hpp"
#include "common/test_data.hpp"
#include "control/exo_types.hpp"
#include "io/io.hpp"
#include "models/gradient_boosting.hpp"
#include "realtime/wire_protocol.hpp"
#include "report/png_check.hpp"
#ifdef MYOEXO_HAVE_TORCH
#include "models/torch/torch_classifier.hpp"
#endif

using myoexo::test::fresh_dir;
using myoexo::test::run_myoexo;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

// Reads run_log.csv keeping the text columns (intent names) as strings.
struct Log {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int col(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return int(i);
    return -1;
  }
};
Log read_log(const fs::path& p) {
  Log l;
  std::ifstream in(p);
  std::string line;
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    for (std::string c; std::getline(ss, c, ',');) v.push_back(c);
    if (!s.empty() && s.back() == ',') v.emplace_back();
    return v;
  };
  if (std::getline(in, line)) l.header = split(line);
  while (std::getline(in, line)) l.rows.push_back(split(line));
  return l;
}

// The claims every run must satisfy, whatever the data.
void expect_valid_run(const fs::path& out, bool with_goniometer) {
  for (const char* f : {"run_log.csv", "events.csv", "summary.json"}) EXPECT_TRUE(fs::exists(out / f)) << f;
  for (const char* png : {"emg", "angles"})
    EXPECT_TRUE(myoexo::test::read_png_header(out / (std::string(png) + ".png")).has_value()) << png;
  if (with_goniometer) {
    EXPECT_TRUE(myoexo::test::read_png_header(out / "knee_goniometer.png").has_value());
  }
  const json s = read_json(out / "summary.json");
  EXPECT_EQ(s["safety"]["setpoint_limit_violations"].get<int>(), 0);
  EXPECT_GT(s["pipeline"]["decisions"].get<int>(), 0);
  for (const char* k : {"compute", "arrival_to_intent", "end_to_end"}) {
    EXPECT_GT(s["latency"][k]["count"].get<int>(), 0) << k;
    EXPECT_GT(s["latency"][k]["p99_us"].get<double>(), 0.0) << k;
    EXPECT_GE(s["latency"][k]["max_us"].get<double>(), s["latency"][k]["p50_us"].get<double>() * 0.9) << k;
  }
  EXPECT_LE(s["latency"]["window_end_to_command_sim"]["max_ms"].get<double>(),
            1e3 / s["control_hz"].get<double>() + 1e-6);

  const Log log = read_log(out / "run_log.csv");
  ASSERT_GT(log.rows.size(), 100u);
  EXPECT_EQ(log.rows.size(), s["ticks"].get<std::size_t>());
  const std::set<std::string> allowed{"rest", "lift", "lower", "gait", "hold"};
  const int intent = log.col("intent"), active = log.col("active_intent");
  const int hip = log.col("hip_setpoint_deg"), knee = log.col("knee_setpoint_deg");
  ASSERT_GE(intent, 0);
  ASSERT_GE(hip, 0);
  const auto lim = myoexo::control::default_joint_limits();
  using myoexo::control::rad_to_deg;
  for (const auto& r : log.rows) {
    ASSERT_EQ(r.size(), log.header.size());
    EXPECT_TRUE(allowed.count(r[std::size_t(intent)])) << r[std::size_t(intent)];
    EXPECT_TRUE(allowed.count(r[std::size_t(active)])) << r[std::size_t(active)];
    const double h = std::stod(r[std::size_t(hip)]), k = std::stod(r[std::size_t(knee)]);
    // The log rounds to 1e-4 deg.
    EXPECT_GE(h, rad_to_deg(lim[0].position_min_rad) - 1e-3);
    EXPECT_LE(h, rad_to_deg(lim[0].position_max_rad) + 1e-3);
    EXPECT_GE(k, rad_to_deg(lim[1].position_min_rad) - 1e-3);
    EXPECT_LE(k, rad_to_deg(lim[1].position_max_rad) + 1e-3);
  }
}

}  // namespace

TEST(RunCommand, SyntheticReplayTrainsOnOtherSubjectsAndWritesEveryOutput) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 3000);
  const auto out = fresh_dir("out");
  const auto model = out / "model.json";
  const auto r = run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nmar.txt").string(), "--train-on", data.string(),
                             "--out", out.string(), "--save-model", model.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("compute p50/p99/max"), std::string::npos) << r.out;
  expect_valid_run(out, true);
  const json s = read_json(out / "summary.json");
  // Out-of-subject: only subject 2A's three files were trained on.
  EXPECT_EQ(s["model"]["trained_on"].size(), 3u);
  for (const auto& f : s["model"]["trained_on"]) EXPECT_EQ(f.get<std::string>().substr(0, 2), "2A");
  EXPECT_EQ(s["class_to_intent"]["standing"], "lift");
  EXPECT_EQ(s["class_to_intent"]["sitting"], "lower");
  EXPECT_EQ(s["class_to_intent"]["gait"], "gait");

  // The saved pipeline model gives the same decisions when loaded back.
  const auto out2 = fresh_dir("out2");
  const auto r2 = run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nmar.txt").string(), "--model", model.string(),
                              "--out", out2.string(), "--no-plots"});
  ASSERT_EQ(r2.rc, 0) << r2.err;
  EXPECT_EQ(read_json(out2 / "summary.json")["intents"], s["intents"]);
}

// A model file is input: sizes and rates in it are bounded before anything is allocated from them.
TEST(RunCommand, HostileModelFileIsRefusedWithAClearMessage) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 3000);
  const auto out = fresh_dir("out");
  const auto model = out / "model.json";
  const std::string replay = (data / "N_TXT" / "1Nmar.txt").string();
  ASSERT_EQ(run_myoexo({"run", "--replay", replay, "--train-on", data.string(), "--out", out.string(), "--no-plots",
                        "--save-model", model.string()}).rc, 0);
  const json good = read_json(model);
  struct Case {
    const char* key;
    json value;
    const char* message;
  };
  const Case cases[] = {{"window_len", json(std::uint64_t{1} << 63), "window_len"},
                        {"window_len", json(2), "window_len"},
                        {"increment", json(0), "increment"},
                        {"sample_rate_hz", json(-1000.0), "sample_rate_hz"}};
  for (const auto& c : cases) {
    json bad = good;
    bad[c.key] = c.value;
    const auto bad_path = out / "bad.json";
    std::ofstream(bad_path) << bad.dump();
    const auto r = run_myoexo({"run", "--replay", replay, "--model", bad_path.string(), "--out",
                               (out / "o").string(), "--no-plots"});
    EXPECT_NE(r.rc, 0) << c.key;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.key << ": " << r.err;
  }
}

// The lda_context variant in a pipeline-model file: trained like the stream computes it, saved with its two
// fields, loaded back equal, and run live; files without the fields load as the plain window LDA.
TEST(RunCommand, ContextModelRoundTripsAndRunsWhileOldFilesStillLoad) {
  namespace app = myoexo::app;
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 3000);
  const auto out = fresh_dir("out");
  auto recs = app::load_training_recordings({data / "A_TXT"});
  ASSERT_TRUE(recs.ok()) << recs.error().message();
  app::PipelineModel base = app::lda_context_model(750);  // evaluate's lda_context
  EXPECT_TRUE(base.log_amplitude);
  EXPECT_EQ(base.features.thresholds.zc, 0.0);
  EXPECT_EQ(app::lda_context_model(0).context_samples, 0u);
  base.sample_rate_hz = recs->front().sample_rate_hz;
  auto m = app::train_pipeline_model(*recs, base);
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_EQ(m->lda.n_inputs(), 4u * 9u * 2u);  // channels x (MAV WL ZC SSC RMS AR1-4) x [window | context]
  EXPECT_EQ(m->lda.input_names().front(), "RF_MAV");
  EXPECT_EQ(m->lda.input_names().back(), "ST_AR4@1000");
  const auto path = out / "ctx.json";
  ASSERT_TRUE(app::save_pipeline_model(*m, path).ok());
  const json j = read_json(path);
  EXPECT_EQ(j["context_samples"], 750);
  EXPECT_EQ(j["log_amplitude"], true);
  auto back = app::load_pipeline_model(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->context_samples, 750u);
  EXPECT_TRUE(back->log_amplitude);
  EXPECT_EQ(back->features.names, m->features.names);
  EXPECT_EQ(back->lda.to_json(), m->lda.to_json());

  // Live: the chain streams it (the pipeline checks 72 inputs = 4 x 9 x 2) and says so in summary.json.
  const std::string replay = (data / "N_TXT" / "1Nmar.txt").string();
  auto r = run_myoexo({"run", "--replay", replay, "--model", path.string(), "--out", (out / "run").string(),
                       "--no-plots"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const json s = read_json(out / "run" / "summary.json");
  EXPECT_EQ(s["model"]["context_samples"], 750);
  EXPECT_EQ(s["model"]["log_amplitude"], true);
  EXPECT_GT(s["pipeline"]["decisions"].get<int>(), 0);

  // A file written before the variant existed (no such keys) is the plain window-feature LDA.
  auto plain = app::train_pipeline_model(*recs, [&] {
    app::PipelineModel b;
    b.sample_rate_hz = base.sample_rate_hz;
    return b;
  }());
  ASSERT_TRUE(plain.ok());
  json old = app::pipeline_model_to_json(*plain);
  old.erase("context_samples");
  old.erase("log_amplitude");
  std::ofstream(out / "old.json") << old.dump();
  auto old_back = app::load_pipeline_model(out / "old.json");
  ASSERT_TRUE(old_back.ok()) << old_back.error().message();
  EXPECT_EQ(old_back->context_samples, 0u);
  EXPECT_FALSE(old_back->log_amplitude);
  r = run_myoexo({"run", "--replay", replay, "--model", (out / "old.json").string(), "--out",
                  (out / "run_old").string(), "--no-plots"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(read_json(out / "run_old" / "summary.json")["model"]["context_samples"], 0);

  // A context LDA in a file that lost its context field no longer matches the stream's rows: refused.
  json lost = j;
  lost.erase("context_samples");
  std::ofstream(out / "lost.json") << lost.dump();
  r = run_myoexo({"run", "--replay", replay, "--model", (out / "lost.json").string(), "--out",
                  (out / "run_lost").string(), "--no-plots"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("72"), std::string::npos) << r.err;
}

// A model trained with the wavelet stage streams with it: the summary names the stage and adds its delay to the
// time from the signal to the command.
TEST(RunCommand, AModelWithTheWaveletStageRunsWithItAndCountsItsDelay) {
  namespace app = myoexo::app;
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 3000);
  const auto out = fresh_dir("out");
  auto recs = app::load_training_recordings({data / "A_TXT"});
  ASSERT_TRUE(recs.ok()) << recs.error().message();
  app::PipelineModel base;
  base.sample_rate_hz = recs->front().sample_rate_hz;
  base.band_high_hz = 150.0;
  base.denoise = myoexo::dsp::WaveletStreamConfig{};
  auto m = app::train_pipeline_model(*recs, base);
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_TRUE(app::save_pipeline_model(*m, out / "wavelet.json").ok());
  const std::string replay = (data / "N_TXT" / "1Nmar.txt").string();
  auto r = run_myoexo({"run", "--replay", replay, "--model", (out / "wavelet.json").string(), "--out",
                       (out / "run").string(), "--no-plots"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("wavelet stage delay 32 ms"), std::string::npos) << r.out;
  const json s = read_json(out / "run" / "summary.json");
  EXPECT_NE(s["model"]["filter"].get<std::string>().find("band-passed 20-150 Hz, wavelet-denoised (delay 32 ms)"),
            std::string::npos);
  EXPECT_EQ(s["latency"]["front_end_delay_ms"].get<double>(), 32.0);
  EXPECT_NEAR(s["latency"]["signal_to_command_sim"]["p50_ms"].get<double>(),
              s["latency"]["window_end_to_command_sim"]["p50_ms"].get<double>() + 32.0, 1e-9);
  // The same model without the stage: no delay counted (that the stage changes the windows: PipelineTest).
  json plain = app::pipeline_model_to_json(*m);
  plain.erase("denoise");
  std::ofstream(out / "plain.json") << plain.dump();
  r = run_myoexo({"run", "--replay", replay, "--model", (out / "plain.json").string(), "--out",
                  (out / "run_plain").string(), "--no-plots"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.find("wavelet stage"), std::string::npos) << r.out;
  const json p = read_json(out / "run_plain" / "summary.json");
  EXPECT_EQ(p["latency"]["front_end_delay_ms"].get<double>(), 0.0);
  EXPECT_EQ(p["pipeline"]["decisions"], s["pipeline"]["decisions"]);
}

TEST(RunCommand, LdaContextOptionTrainsTheContextVariant) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 3000);
  const auto out = fresh_dir("out");
  const std::string replay = (data / "N_TXT" / "1Nmar.txt").string();
  auto r = run_myoexo({"run", "--replay", replay, "--train-on", data.string(), "--lda-context", "750", "--out",
                       out.string(), "--no-plots", "--save-model", (out / "m.json").string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("lda_context"), std::string::npos) << r.err;
  EXPECT_EQ(read_json(out / "summary.json")["model"]["context_samples"], 750);
  const json m = read_json(out / "m.json");
  EXPECT_EQ(m["context_samples"], 750);
  EXPECT_EQ(m["log_amplitude"], true);
  // Not with --model (the file decides), and bounded like evaluate's --context.
  r = run_myoexo({"run", "--replay", replay, "--model", (out / "m.json").string(), "--lda-context", "750", "--out",
                  (out / "o").string(), "--no-plots"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("--lda-context"), std::string::npos) << r.err;
  r = run_myoexo({"run", "--replay", replay, "--train-on", data.string(), "--lda-context", "5000", "--out",
                  (out / "o").string()});
  EXPECT_NE(r.rc, 0);
}

TEST(RunCommand, ContextSamplesOutOfRangeInAModelFileIsRefused) {
  namespace app = myoexo::app;
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 3000);
  const auto out = fresh_dir("out");
  auto recs = app::load_training_recordings({data / "A_TXT"});
  ASSERT_TRUE(recs.ok());
  app::PipelineModel base;
  base.sample_rate_hz = recs->front().sample_rate_hz;
  auto m = app::train_pipeline_model(*recs, base);
  ASSERT_TRUE(m.ok());
  const json good = app::pipeline_model_to_json(*m);
  // Too big, too many context lengths for the increment (1e6 samples every 50), negative (wraps), not a number.
  for (const json& v : {json(std::uint64_t{1} << 40), json(1000000), json(-1), json("750")}) {
    json bad = good;
    bad["context_samples"] = v;
    std::ofstream(out / "bad.json") << bad.dump();
    auto r = app::load_pipeline_model(out / "bad.json");
    ASSERT_FALSE(r.ok()) << v.dump();
    EXPECT_NE(r.error().message().find("context_samples"), std::string::npos) << r.error().message();
  }
  // Training refuses the same geometry before computing anything.
  base.context_samples = 1000000;
  EXPECT_EQ(app::train_pipeline_model(*recs, base).error().code, myoexo::ErrorCode::invalid_argument);
}

TEST(RunCommand, InjectedNanBurstIsCountedAndHeldBySupervisor) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 3000);
  const auto out = fresh_dir("out");
  const auto r =
      run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nmar.txt").string(), "--train-on", data.string(), "--out",
                  out.string(), "--no-plots", "--fault", "nan_burst:1.0:0.2", "--fault", "stall:2.0:0.5"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const json s = read_json(out / "summary.json");
  EXPECT_EQ(s["faults_injected"].size(), 2u);
  EXPECT_GT(s["pipeline"]["nonfinite_samples"].get<int>(), 0);
  EXPECT_GT(s["safety"]["events_by_reason"].value("sensor_fault", 0), 0) << s["safety"].dump();
  EXPECT_EQ(s["safety"]["setpoint_limit_violations"].get<int>(), 0);
  // The logged reason is in events.csv too.
  std::ifstream ev(out / "events.csv");
  std::stringstream ss;
  ss << ev.rdbuf();
  EXPECT_NE(ss.str().find("sensor_fault"), std::string::npos);
}

TEST(RunCommand, RealRecordingOutOfSubjectReplay) {
  const auto root = myoexo::test::data_root();
  if (!root || !fs::exists(*root / "uci-lower-limb" / "N_TXT" / "3Nmar.txt")) GTEST_SKIP() << "UCI data absent";
  const fs::path d = *root / "uci-lower-limb";
  const auto out = fresh_dir("out");
  std::string train;
  for (const char* f : {"A_TXT/5Amar.txt", "A_TXT/5Apie.txt", "A_TXT/5Asen.txt", "N_TXT/6Nmar.txt", "N_TXT/6Npie.txt",
                        "N_TXT/6Nsen.txt"}) {
    if (!train.empty()) train.push_back(',');
    train.append((d / f).string());
  }
  const auto r = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nmar.txt").string(), "--train-on", train, "--seconds",
                             "8", "--out", out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  expect_valid_run(out, true);
  const json s = read_json(out / "summary.json");
  EXPECT_EQ(s["recording"]["subject"], "3N");
  EXPECT_EQ(s["actuators"], "mujoco");
  EXPECT_LE(s["sim_time_s"].get<double>(), 8.1);
}

// Proportional knee on real data: the knee follows the EMG estimate while the decoder says lower (the sitting leg
// extension), inside the limits; the log and summary say how close the knee came to the recorded goniometer.
TEST(RunCommand, ProportionalKneeFollowsTheEstimateOnARealRecording) {
  const auto root = myoexo::test::data_root();
  if (!root || !fs::exists(*root / "uci-lower-limb" / "N_TXT" / "3Nsen.txt")) GTEST_SKIP() << "UCI data absent";
  const fs::path d = *root / "uci-lower-limb";
  std::string train;
  for (const char* f : {"A_TXT/5Amar.txt", "A_TXT/5Apie.txt", "A_TXT/5Asen.txt", "N_TXT/6Nmar.txt", "N_TXT/6Npie.txt",
                        "N_TXT/6Nsen.txt"}) {
    if (!train.empty()) train.push_back(',');
    train.append((d / f).string());
  }
  const auto out = fresh_dir("out");
  const auto model = out / "model.json";
  const auto r = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--train-on", train,
                             "--lda-context", "750", "--proportional", "--seconds", "8", "--out", out.string(),
                             "--save-model", model.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  expect_valid_run(out, true);
  const json s = read_json(out / "summary.json");
  const json& k = s["knee_tracking"];
  EXPECT_TRUE(k["proportional"].get<bool>());
  EXPECT_GT(k["following_fraction"].get<double>(), 0.2);
  EXPECT_TRUE(k["exo_rmse_deg"].is_number());
  EXPECT_TRUE(k["estimate_rmse_deg"].is_number());
  const Log log = read_log(out / "run_log.csv");
  const int est = log.col("knee_estimate_deg"), fol = log.col("knee_following");
  ASSERT_GE(est, 0);
  ASSERT_GE(fol, 0);
  std::size_t finite = 0, following = 0;
  for (const auto& row : log.rows) {
    if (!row[std::size_t(est)].empty() && std::isfinite(std::stod(row[std::size_t(est)]))) ++finite;
    following += row[std::size_t(fol)] == "1";
  }
  EXPECT_GT(finite, log.rows.size() / 2);
  EXPECT_GT(following, 0u);
  // The saved model carries the regressor: the same replay from the file, estimates logged but not followed.
  const auto out2 = fresh_dir("out2");
  const auto r2 = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--model", model.string(),
                              "--seconds", "8", "--out", out2.string(), "--no-plots"});
  ASSERT_EQ(r2.rc, 0) << r2.err;
  const json s2 = read_json(out2 / "summary.json");
  EXPECT_FALSE(s2["knee_tracking"]["proportional"].get<bool>());
  EXPECT_EQ(s2["knee_tracking"]["following_fraction"].get<double>(), 0.0);
  EXPECT_EQ(s2["knee_tracking"]["estimate_rmse_deg"], k["estimate_rmse_deg"]);
}

// Knee-angle trees in the live chain: trained with the LDA on the same recordings, read from the window and the 750
// past samples the LDA's context keeps, followed by the knee, and carried inside the saved model's JSON.
TEST(RunCommand, KneeAngleTreesDriveProportionalModeAndTravelInTheModel) {
  if (!myoexo::models::gradient_boosting_available()) GTEST_SKIP() << "built without XGBoost";
  const auto root = myoexo::test::data_root();
  if (!root || !fs::exists(*root / "uci-lower-limb" / "N_TXT" / "3Nsen.txt")) GTEST_SKIP() << "UCI data absent";
  const fs::path d = *root / "uci-lower-limb";
  std::string train;
  for (const char* f : {"A_TXT/5Asen.txt", "A_TXT/5Apie.txt", "N_TXT/6Nsen.txt", "N_TXT/6Npie.txt"}) {
    if (!train.empty()) train.push_back(',');
    train.append((d / f).string());
  }
  const auto out = fresh_dir("out");
  const auto model = out / "model.json";
  const auto r = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--train-on", train,
                             "--lda-context", "750", "--proportional", "--knee-model", "trees", "--seconds", "8",
                             "--out", out.string(), "--no-plots", "--save-model", model.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("training the knee-angle trees (XGBoost"), std::string::npos) << r.err;
  const json k = read_json(out / "summary.json")["knee_tracking"];
  EXPECT_TRUE(k["proportional"].get<bool>());
  EXPECT_GT(k["following_fraction"].get<double>(), 0.2);
  EXPECT_TRUE(k["estimate_rmse_deg"].is_number());
  const json mj = read_json(model);
  EXPECT_EQ(mj["knee_angle"]["trees"]["kind"], "envelope_trees");
  EXPECT_EQ(mj["knee_angle"]["trees"]["trees"]["trees"].size(), 300u);
  const auto out2 = fresh_dir("out2");
  const auto r2 = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--model", model.string(),
                              "--proportional", "--seconds", "8", "--out", out2.string(), "--no-plots"});
  ASSERT_EQ(r2.rc, 0) << r2.err;
  const json k2 = read_json(out2 / "summary.json")["knee_tracking"];
  EXPECT_EQ(k2["estimate_rmse_deg"], k["estimate_rmse_deg"]);
  EXPECT_EQ(k2["exo_rmse_deg"], k["exo_rmse_deg"]);
  // The trees read 1000 samples: an LDA context of 250 cannot feed them, and the fix is named.
  const auto r3 = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--train-on", train,
                              "--lda-context", "250", "--knee-angle", "--knee-model", "trees", "--seconds", "1",
                              "--out", fresh_dir("out3").string(), "--no-plots"});
  EXPECT_NE(r3.rc, 0);
  EXPECT_NE(r3.err.find("--lda-context 750"), std::string::npos) << r3.err;
}

TEST(RunCommand, ProportionalWithoutAKneeAngleModelIsRefused) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 3000);
  const auto out = fresh_dir("out");
  const auto model = out / "model.json";
  ASSERT_EQ(run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nmar.txt").string(), "--train-on", data.string(),
                        "--out", out.string(), "--no-plots", "--save-model", model.string()})
                .rc,
            0);
  const auto r = run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nmar.txt").string(), "--model", model.string(),
                             "--proportional", "--out", fresh_dir("out3").string()});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("knee-angle regressor"), std::string::npos) << r.err;
}

TEST(RunCommand, BadArgumentsFailWithClearMessages) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 1000);
  const std::string rep = (data / "N_TXT" / "1Nmar.txt").string();
  auto r = run_myoexo({"run", "--train-on", data.string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--replay"), std::string::npos) << r.err;

  r = run_myoexo({"run", "--replay", rep});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("--model"), std::string::npos) << r.err;

  r = run_myoexo({"run", "--replay", rep, "--model", "m.json", "--train-on", data.string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;

  r = run_myoexo({"run", "--replay", (data / "nope.txt").string(), "--train-on", data.string()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;

  r = run_myoexo({"run", "--replay", rep, "--model", (data / "missing.json").string()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;

  r = run_myoexo(
      {"run", "--replay", rep, "--train-on", data.string(), "--fault", "melt:1:1", "--out", (data / "o").string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("unknown kind 'melt'"), std::string::npos) << r.err;

  // A stall longer than the recording would make the replay tick for 10^7 simulated seconds.
  r = run_myoexo({"run", "--replay", rep, "--train-on", data.string(), "--fault", "stall:0:1e7", "--out",
                  (data / "o").string()});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("after the recording"), std::string::npos) << r.err;

  r = run_myoexo(
      {"run", "--replay", rep, "--train-on", data.string(), "--control-hz", "333", "--out", (data / "o").string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("timestep"), std::string::npos) << r.err;

  r = run_myoexo({"run", "--replay", rep, "--chunk", "0", "--train-on", data.string()});
  EXPECT_EQ(r.rc, 2);
}

TEST(RecordCommand, BadArgumentsFailWithClearMessages) {
  const auto dir = fresh_dir("rec");
  auto r = run_myoexo({"record", "--out", (dir / "x.csv").string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--port"), std::string::npos) << r.err;
  r = run_myoexo({"record", "--port", "/dev/null", "--out", (dir / "x.wav").string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find(".csv, .edf or .bdf"), std::string::npos) << r.err;
  r = run_myoexo(
      {"record", "--port", (dir / "no-such-port").string(), "--seconds", "0.1", "--out", (dir / "x.csv").string()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("no-such-port"), std::string::npos) << r.err;
}

namespace {

// A pseudo-terminal plays a 2-channel board: waits for the start byte, then streams frames (channel 0: code i mod
// 1024, channel 1: 512) until `stop`.
void play_two_channel_board(int master, const std::atomic<bool>& stop) {
  bool started = false;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!started && std::chrono::steady_clock::now() < end) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0 && (p.revents & POLLIN)) {
      std::uint8_t b = 0;
      if (::read(master, &b, 1) == 1 && b == myoexo::realtime::kWireStartByte) started = true;
    }
  }
  if (!started) return;
  std::uint8_t buf[myoexo::realtime::kMaxWireFrameBytes];
  for (std::uint32_t i = 0; i < 3000 && !stop; ++i) {
    const std::uint16_t codes[2] = {std::uint16_t(i % 1024), std::uint16_t(512)};
    const auto n = myoexo::realtime::encode_wire_frame(std::uint8_t(i & 0xff), codes, buf);
    if (::write(master, buf, n) != ssize_t(n)) break;
    if (i % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Keep the line open until the host is done.
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

// `myoexo record` against that board for a fixed stream duration; extra arguments go to the command.
myoexo::test::CliRun record_from_pty_board(const std::filesystem::path& out, std::vector<std::string> extra = {},
                                           const std::string& seconds = "0.5") {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) return {1, "", "no pseudo-terminal"};
  const std::string slave = ::ptsname(master);
  std::atomic<bool> stop{false};
  std::thread board([&] { play_two_channel_board(master, stop); });
  std::vector<std::string> args{"record", "--port", slave, "--channels", "2", "--rate", "1000", "--out", out.string()};
  if (!seconds.empty()) args.insert(args.end(), {"--seconds", seconds});
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_myoexo(args);
  stop = true;
  board.join();
  ::close(master);
  return r;
}

}  // namespace

TEST(RecordCommand, RecordsFramesFromAPseudoTerminalBoard) {
  const auto dir = fresh_dir("rec");
  const auto out = dir / "session.csv";
  const auto r = record_from_pty_board(out);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("recorded"), std::string::npos) << r.out;
  const auto t = myoexo::test::read_table(out);
  EXPECT_EQ(t.rows.size(), 500u) << "exactly --seconds of stream";
  ASSERT_FALSE(t.rows.empty());
  EXPECT_EQ(t.rows[10][1], 10.0) << "raw ADC codes";
}

// A session is not repeatable: an existing file is never replaced without --force, and nothing is touched.
TEST(RecordCommand, AnExistingFileIsNotOverwrittenWithoutForce) {
  const auto dir = fresh_dir("rec_force");
  const auto out = dir / "session.csv";
  std::ofstream(out) << "an earlier session\n";
  auto r = record_from_pty_board(out);
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  std::ifstream in(out);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "an earlier session\n");
  r = record_from_pty_board(out, {"--force"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(myoexo::test::read_table(out).rows.size(), 500u);
}

// A guided session: the cue protocol's prompts on the terminal, every sample labelled through the BIDS sidecars, and
// the recording reads back as a labelled training file.
TEST(RecordCommand, ACueProtocolPromptsAndLabelsEverySample) {
  const auto dir = fresh_dir("rec");
  const auto cues = dir / "cues.toml";
  std::ofstream(cues) << "lead_in_s = 0.5\nrest_s = 0.25\nrandomise = false\n"
                         "[[movement]]\nname = \"leg lift\"\nprompt = \"Lift the leg\"\nduration_s = 0.5\n"
                         "[[movement]]\nname = \"leg descent\"\nduration_s = 0.5\n";
  const auto out = dir / "sub-01_emg.csv";
  const auto r = record_from_pty_board(out, {"--cues", cues.string()}, "");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("NOW Lift the leg (0.5 s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("next: leg descent"), std::string::npos) << r.out;
  // The protocol's length: 0.5 + (0.5 + 0.25) x 2 = 2 s.
  auto rec = myoexo::io::read_recording(out);
  ASSERT_TRUE(rec) << rec.error().message();
  ASSERT_EQ(rec->n_samples, 2000u);
  EXPECT_EQ(rec->label_names, (std::vector<std::string>{"leg descent", "leg lift", "rest"}));
  std::vector<std::size_t> per_label(3, 0);
  for (int l : rec->sample_labels) {
    ASSERT_GE(l, 0);
    ++per_label[std::size_t(l)];
  }
  EXPECT_EQ(per_label[0], 500u);
  EXPECT_EQ(per_label[1], 500u);
  EXPECT_EQ(per_label[2], 1000u);
  EXPECT_EQ(rec->sample_labels[499], 2);
  EXPECT_EQ(rec->sample_labels[500], 1) << "the lift starts at 0.5 s";
  for (const char* f : {"sub-01_emg_events.tsv", "sub-01_emg_channels.tsv", "sub-01_emg_emg.json"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  EXPECT_FALSE(std::filesystem::exists(dir / "sub-01_emg_events.partial.tsv")) << "the schedule kept while recording";
  // A bad protocol is refused before anything is recorded.
  std::ofstream(cues) << "[[movement]]\nname = \"a\"\nduration_s = -1\n";
  const auto bad = run_myoexo({"record", "--port", "/dev/null", "--cues", cues.string(), "--out",
                               (dir / "bad.csv").string()});
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("duration_s"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.csv"));
}

TEST(RecordCommand, ABoardProfileRecordsMillivoltsAtTheSkin) {
  const auto dir = fresh_dir("rec");
  const auto profile = dir / "board.toml";
  std::ofstream(profile) << "name = \"MyoWare 2.0 RAW, 5 V Uno\"\nadc_bits = 10\nreference_volts = 5.0\ngain = 200.0\n"
                            "output = \"raw\"\n";
  const auto out = dir / "session.csv";
  const auto r = record_from_pty_board(out, {"--board", profile.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto t = myoexo::test::read_table(out);
  ASSERT_EQ(t.rows.size(), 500u);
  ASSERT_EQ(t.header.size(), 3u);
  EXPECT_NE(t.header[1].find("mV"), std::string::npos) << t.header[1];
  // (code - 511.5) x 5000 mV / 1023 / 200 at the skin: code 10 -> -12.256 mV, code 512 -> +0.0122 mV.
  const double mv_per_code = 5000.0 / 1023.0 / 200.0;
  EXPECT_NEAR(t.rows[10][1], (10 - 511.5) * mv_per_code, 1e-4);
  EXPECT_NEAR(t.rows[10][2], (512 - 511.5) * mv_per_code, 1e-4);
  // An envelope sensor is not an EMG in mV: refused, nothing recorded.
  std::ofstream(profile) << "output = \"env\"\n";
  const auto bad = run_myoexo({"record", "--port", "/dev/null", "--board", profile.string(), "--out",
                               (dir / "env.csv").string()});
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("envelope"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "env.csv"));
}

// `myoexo run --port`: a pseudo-terminal board streams 4 channels in real time; the chain runs live for a
// fixed time with an LDA trained on the synthetic set.
TEST(RunCommand, LiveSerialBoardDrivesTheChain) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 2000);
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string slave = ::ptsname(master);
  std::atomic<bool> stop{false};
  std::thread board([&] {
    bool started = false;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!started && std::chrono::steady_clock::now() < end) {
      pollfd p{master, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0 && (p.revents & POLLIN)) {
        std::uint8_t b = 0;
        if (::read(master, &b, 1) == 1 && b == myoexo::realtime::kWireStartByte) started = true;
      }
    }
    std::uint8_t buf[myoexo::realtime::kMaxWireFrameBytes];
    for (std::uint32_t i = 0; started && i < 3000 && !stop; ++i) {
      const std::uint16_t codes[4] = {std::uint16_t(512 + (i * 37) % 200), std::uint16_t(512 + (i * 11) % 50),
                                      std::uint16_t(512 + (i * 7) % 60), std::uint16_t(512 + (i * 5) % 40)};
      const auto n = myoexo::realtime::encode_wire_frame(std::uint8_t(i & 0xff), codes, buf);
      if (::write(master, buf, n) != ssize_t(n)) break;
      if (i % 20 == 19) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  const auto out = fresh_dir("out");
  const auto r =
      run_myoexo({"run", "--port", slave, "--seconds", "0.8", "--train-on", data.string(), "--out", out.string()});
  stop = true;
  board.join();
  ::close(master);
  ASSERT_EQ(r.rc, 0) << r.err;
  const json s = read_json(out / "summary.json");
  EXPECT_GT(s["pipeline"]["decisions"].get<int>(), 0);
  EXPECT_GT(s["serial_stats"]["frames_ok"].get<int>(), 250);
  EXPECT_EQ(s["safety"]["setpoint_limit_violations"].get<int>(), 0);
  EXPECT_TRUE(myoexo::test::read_png_header(out / "angles.png").has_value());
}

// ---- `run --model NET.pt`: a LibTorch network file configures and drives the chain -------------------------

#ifdef MYOEXO_HAVE_TORCH
namespace {
// An untrained CNN1d on the UCI channels (timing and plumbing do not depend on training), saved to `path`.
void save_untrained_cnn(const fs::path& path, std::vector<std::string> channels, std::size_t window = 250,
                        std::size_t increment = 50) {
  myoexo::models::NetworkSpec ns;
  ns.input.sample_rate_hz = 1000.0;
  ns.input.channel_names = std::move(channels);
  ns.input.window_length = window;
  ns.input.window_increment = increment;
  ns.input.filter.kind = "highpass";  // not the pipeline-model default: proves the stream takes the file's filter
  ns.input.filter.order = 2;
  ns.input.filter.low_hz = 10.0;
  ns.arch.kind = myoexo::models::ArchKind::cnn1d;
  ns.arch.filters = {4, 8};
  ns.class_names = {"gait", "sitting", "standing"};
  auto net = myoexo::models::TorchClassifier::create(ns, 11);
  ASSERT_TRUE(net) << net.error().message();
  ASSERT_TRUE(net->save(path).ok());
}
}  // namespace

TEST(RunCommand, LibTorchModelFileConfiguresAndDrivesTheChain) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 3000);
  const auto out = fresh_dir("out");
  const auto net = out / "net.pt";
  // The file lists the channels in another order than the recording: the stream must follow the file.
  save_untrained_cnn(net, {"ST", "RF", "VM", "BF"}, 200, 40);
  const auto r = run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nmar.txt").string(), "--model", net.string(),
                             "--out", out.string(), "--reject", "0", "--save-model", (out / "copy.pt").string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  expect_valid_run(out, true);
  const json s = read_json(out / "summary.json");
  EXPECT_EQ(s["model"]["kind"], "torch");
  EXPECT_EQ(s["model"]["arch"], "cnn1d");
  EXPECT_EQ(s["model"]["channels"], json({"ST", "RF", "VM", "BF"}));
  EXPECT_EQ(s["model"]["window_len"], 200);
  EXPECT_EQ(s["model"]["increment"], 40);
  EXPECT_EQ(s["model"]["filter"], "high-passed 10 Hz");
  EXPECT_EQ(s["class_to_intent"]["standing"], "lift");
  EXPECT_EQ(s["class_to_intent"]["sitting"], "lower");
  // Every window of the 3 s recording was decided: (3000 - 200) / 40 + 1.
  EXPECT_EQ(s["pipeline"]["decisions"].get<int>(), 71);
  EXPECT_EQ(s["pipeline"]["classifier_errors"].get<int>(), 0);
  std::size_t total = 0, non_rest = 0;
  for (const auto& [name, n] : s["intents"].items()) {
    total += n.get<std::size_t>();
    if (name != "rest") non_rest += n.get<std::size_t>();
  }
  EXPECT_EQ(total, 71u);
  EXPECT_GT(non_rest, 0u);  // --reject 0: the untrained network's argmax passes
  const Log log = read_log(out / "run_log.csv");
  std::set<std::string> seen;
  for (const auto& row : log.rows) seen.insert(row[std::size_t(log.col("intent"))]);
  EXPECT_TRUE(seen.count("gait") || seen.count("lift") || seen.count("lower")) << "only rest/hold in the log";
  // --save-model with a network writes the same model file.
  EXPECT_EQ(fs::file_size(out / "copy.pt"), fs::file_size(net));
}

TEST(RunCommand, LibTorchModelWhoseChannelsTheRecordingLacksIsAMismatchNamingThem) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 1000);
  const auto out = fresh_dir("out");
  const auto net = out / "net.pt";
  save_untrained_cnn(net, {"RF", "TA", "VM", "GM"});
  const auto r = run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nmar.txt").string(), "--model", net.string(),
                             "--out", out.string(), "--no-plots"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("lacks channel(s) TA, GM"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("RF, BF, VM, ST"), std::string::npos) << r.err;  // what the recording has
}

// The knee-angle network in the live chain: trained with the LDA on the same recordings, it reads the window and
// the 750 past samples the LDA's context keeps, the knee follows it, and the model saved with it (JSON + network
// file beside it) replays the same estimates.
TEST(RunCommand, AKneeAngleNetworkDrivesProportionalModeAndTravelsWithTheModel) {
  const auto root = myoexo::test::data_root();
  if (!root || !fs::exists(*root / "uci-lower-limb" / "N_TXT" / "3Nsen.txt")) GTEST_SKIP() << "UCI data absent";
  const fs::path d = *root / "uci-lower-limb";
  std::string train;
  for (const char* f : {"A_TXT/5Asen.txt", "A_TXT/5Apie.txt", "N_TXT/6Nsen.txt", "N_TXT/6Npie.txt"}) {
    if (!train.empty()) train.push_back(',');
    train.append((d / f).string());
  }
  const auto out = fresh_dir("out");
  const auto model = out / "model.json";
  const auto r = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--train-on", train,
                             "--lda-context", "750", "--proportional", "--knee-model", "cnn1d_context",
                             "--knee-epochs", "2", "--seconds", "8", "--out", out.string(), "--no-plots",
                             "--save-model", model.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("training the knee-angle network (cnn1d"), std::string::npos) << r.err;
  const json s = read_json(out / "summary.json");
  const json& k = s["knee_tracking"];
  EXPECT_TRUE(k["proportional"].get<bool>());
  EXPECT_TRUE(k["estimate_rmse_deg"].is_number());
  EXPECT_GT(k["following_fraction"].get<double>(), 0.0);
  const Log log = read_log(out / "run_log.csv");
  const int est = log.col("knee_estimate_deg");
  ASSERT_GE(est, 0);
  std::size_t finite = 0;
  for (const auto& row : log.rows)
    finite += !row[std::size_t(est)].empty() && std::isfinite(std::stod(row[std::size_t(est)]));
  EXPECT_GT(finite, log.rows.size() / 2);
  // The model file names the network beside it; loaded back, the same replay gives the same estimates.
  const json mj = read_json(model);
  EXPECT_EQ(mj["knee_angle"]["network_file"], "model.knee_angle.pt");
  EXPECT_FALSE(mj["knee_angle"].contains("ridge"));
  ASSERT_TRUE(fs::exists(out / "model.knee_angle.pt"));
  const auto out2 = fresh_dir("out2");
  const auto r2 = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--model", model.string(),
                              "--proportional", "--seconds", "8", "--out", out2.string(), "--no-plots"});
  ASSERT_EQ(r2.rc, 0) << r2.err;
  const json s2 = read_json(out2 / "summary.json");
  EXPECT_EQ(s2["knee_tracking"]["estimate_rmse_deg"], k["estimate_rmse_deg"]);
  EXPECT_EQ(s2["knee_tracking"]["exo_rmse_deg"], k["exo_rmse_deg"]);
  // A network file cut short, a missing one, or an LDA whose context is shorter than the network's past, is refused
  // with the file (or the fix) named.
  const auto size = fs::file_size(out / "model.knee_angle.pt");
  fs::resize_file(out / "model.knee_angle.pt", size / 2);
  const auto cut = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--model", model.string(),
                               "--seconds", "1", "--out", fresh_dir("out_cut").string(), "--no-plots"});
  EXPECT_NE(cut.rc, 0);
  EXPECT_NE(cut.err.find("model.knee_angle.pt"), std::string::npos) << cut.err;
  fs::remove(out / "model.knee_angle.pt");
  const auto r3 = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--model", model.string(),
                              "--seconds", "1", "--out", fresh_dir("out3").string(), "--no-plots"});
  EXPECT_NE(r3.rc, 0);
  EXPECT_NE(r3.err.find("model.knee_angle.pt"), std::string::npos) << r3.err;
  const auto r4 = run_myoexo({"run", "--replay", (d / "N_TXT" / "3Nsen.txt").string(), "--train-on", train,
                              "--lda-context", "250", "--knee-angle", "--knee-model", "cnn1d_context", "--seconds",
                              "1", "--out", fresh_dir("out4").string(), "--no-plots"});
  EXPECT_NE(r4.rc, 0);
  EXPECT_NE(r4.err.find("--lda-context 750"), std::string::npos) << r4.err;
}
#else
TEST(RunCommand, LibTorchModelFileWithoutLibTorchIsAClearError) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 1000);
  const auto net = data / "net.pt";
  static const char kZipStart[] = "PK\x03\x04rest of a zip";  // a zip's local-header magic, then junk
  std::ofstream(net, std::ios::binary) << std::string(kZipStart, sizeof kZipStart - 1);
  const auto r = run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nmar.txt").string(), "--model", net.string(),
                             "--out", (data / "o").string(), "--no-plots"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("built without LibTorch"), std::string::npos) << r.err;
}
#endif

TEST(RunCommand, ModelFileThatIsNeitherJsonNorLibTorchIsRefused) {
  const auto data = fresh_dir("data");
  myoexo::test::write_uci_folder(data, 1000);
  const auto bad = data / "model.bin";
  std::ofstream(bad, std::ios::binary) << "\x7f" "ELF not a model";
  const auto r = run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nmar.txt").string(), "--model", bad.string(),
                             "--out", (data / "o").string(), "--no-plots"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("neither a LibTorch model file"), std::string::npos) << r.err;
}

TEST(RunCommand, OutOfRangeRunAndRecordOptionsAreUsageErrors) {
  const std::string rep = "unused.txt";  // parsing fails before any file is read
  struct Case {
    std::vector<std::string> args;
    const char* needle;
  };
  const std::vector<Case> cases{
      {{"run", "--replay", rep, "--model", "m.json", "--random-faults", "10001"}, "--random-faults"},
      {{"run", "--replay", rep, "--model", "m.json", "--random-faults", "-1"}, "--random-faults"},
      {{"run", "--replay", rep, "--model", "m.json", "--fault-seed", "-1"}, "--fault-seed"},
      {{"run", "--replay", rep, "--model", "m.json", "--fault-seed", "18446744073709551616"}, "--fault-seed"},
      {{"run", "--replay", rep, "--model", "m.json", "--fault-seed", "12abc"}, "--fault-seed"},
      {{"run", "--port", "/dev/null", "--model", "m.json", "--baud", "0"}, "--baud"},
      {{"run", "--port", "/dev/null", "--model", "m.json", "--baud", "99999999"}, "--baud"},
      {{"record", "--port", "/dev/null", "--out", "x.csv", "--baud", "-9600"}, "--baud"},
      {{"record", "--port", "/dev/null", "--out", "x.csv", "--baud", "12"}, "--baud"},
  };
  for (const auto& c : cases) {
    const auto r = run_myoexo(c.args);
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    EXPECT_EQ(r.rc, 2) << line << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << line << r.err;
  }
  // The edges are accepted by the parser (the run then fails later, on the missing files, with exit 1).
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"run", "--replay", rep, "--model", "m.json", "--random-faults", "10000", "--fault-seed",
            "18446744073709551615"},
           {"run", "--replay", rep, "--model", "m.json", "--random-faults", "0", "--fault-seed", "0"}}) {
    const auto r = run_myoexo(args);
    EXPECT_EQ(r.rc, 1) << r.err;
  }
}
