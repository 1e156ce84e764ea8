// `myoexo train`, `predict` and `calibrate` on real UCI lower-limb recordings (tiny networks, 1-2 epochs).
// Only with LibTorch; the real-data tests skip when ../shared/datasets is absent.
#ifdef MYOEXO_HAVE_TORCH

#include "app/train_cmd.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "app/app_test_util.hpp"
#include "app/model_file.hpp"
#include "control/intent.hpp"
#include "common/test_data.hpp"
#include "io/io.hpp"
#include "models/gradient_boosting.hpp"
#include "models/torch/torch_classifier.hpp"
#include "report/png_check.hpp"
#include "session/model.hpp"

namespace fs = std::filesystem;
using myoexo::test::run_myoexo;
using myoexo::test::slurp;

namespace {

std::optional<fs::path> uci_root() {
  const auto root = myoexo::test::data_root();
  if (!root || !fs::is_directory(*root / "uci-lower-limb" / "A_TXT")) return std::nullopt;
  return fs::absolute(*root / "uci-lower-limb");  // the links below must not depend on the working directory
}

// A data-set folder of links to the real files of `subjects` (the data stay where they are; loading three
// subjects takes a fraction of the whole set's time).
fs::path link_subjects(const fs::path& uci, const fs::path& dir, const std::vector<std::string>& subjects) {
  fs::remove_all(dir);
  for (const char* group : {"A_TXT", "N_TXT"}) {
    fs::create_directories(dir / group);
    for (const auto& s : subjects)
      for (const char* m : {"mar", "sen", "pie"}) {
        const fs::path src = uci / group / (s + m + ".txt");
        if (fs::exists(src)) fs::create_symlink(src, dir / group / src.filename());
      }
  }
  return dir;
}

// A tiny CNN so a test epoch takes well under a second on one core.
fs::path write_tiny_config(const fs::path& path, const std::string& epochs = "1") {
  std::ofstream f(path);
  f << "[input]\nchannels = [\"RF\", \"BF\", \"VM\", \"ST\"]\nwindow_length = 250\nwindow_increment = 50\n"
       "[input.filter]\nkind = \"bandpass\"\norder = 4\nlow_hz = 20.0\nhigh_hz = 450.0\ncausal = true\n"
       "[model]\narch = \"cnn1d\"\nfilters = [4, 8]\nkernel_size = 5\npool_size = 4\n"
       "[train]\nepochs = " << epochs << "\nbatch_size = 64\nvalidation = \"chronological\"\n"
       "validation_fraction = 0.2\nseed = 3\nthreads = 1\nprogress = false\n";
  return path;
}

// One trained model shared by the tests (training is the slow part).
struct Shared {
  bool ready = false;
  fs::path dir, data, config, model;
  myoexo::test::CliRun train;
};

Shared& shared() {
  static Shared s = [] {
    Shared r;
    const auto uci = uci_root();
    if (!uci) return r;
    // One folder per process: CTest runs these tests as parallel processes, and each builds its own copy (a
    // shared folder would be removed by one process while another trains in it).
    r.dir = fs::path(::testing::TempDir()) / ("myoexo_train_cmd_test_" + std::to_string(::getpid()));
    fs::remove_all(r.dir);
    fs::create_directories(r.dir);
    r.data = link_subjects(*uci, r.dir / "data", {"1A", "2A", "1N"});
    r.config = write_tiny_config(r.dir / "tiny.toml");
    r.model = r.dir / "out" / "tiny.pt";
    r.train = run_myoexo({"train", "--quiet", "--config", r.config.string(), "--dataset", r.data.string(), "--subject",
                          "1A,2A", "--epochs", "2", "--out", r.model.string(), "--torchscript",
                          (r.dir / "out" / "tiny.ts").string()});
    r.ready = true;
    return r;
  }();
  return s;
}

#define REQUIRE_DATA()                                                        \
  if (!shared().ready) GTEST_SKIP() << "uci-lower-limb data absent";        \
  ASSERT_EQ(shared().train.rc, 0) << shared().train.err

}  // namespace

TEST(TrainCmd, HelpListsTheNetworkCommands) {
  const auto r = run_myoexo({"--help"});
  EXPECT_EQ(r.rc, 0);
  for (const char* c : {"train", "predict", "calibrate"}) EXPECT_NE(r.out.find(c), std::string::npos) << c;
}

TEST(TrainCmd, ModelFileHoldsConfigChannelsAndDataClasses) {
  REQUIRE_DATA();
  const Shared& s = shared();
  auto model = myoexo::models::TorchClassifier::load(s.model);
  ASSERT_TRUE(model) << model.error().message();
  const auto& spec = model->spec();
  EXPECT_EQ(spec.input.channel_names, (std::vector<std::string>{"RF", "BF", "VM", "ST"}));
  EXPECT_EQ(spec.class_names, (std::vector<std::string>{"gait", "sitting", "standing"}));
  EXPECT_EQ(spec.input.window_length, 250u);
  EXPECT_EQ(spec.input.window_increment, 50u);
  EXPECT_EQ(spec.input.filter.kind, "bandpass");
  EXPECT_EQ(spec.normalisation.mean.size(), 4u);  // fitted on the training windows and stored
  EXPECT_EQ(spec.arch.filters, (std::vector<std::size_t>{4, 8}));
  // --epochs 2 overrides the config's 1: two history rows (plus the header).
  const auto hist = myoexo::test::read_table(s.dir / "out" / "tiny_history.csv");
  EXPECT_EQ(hist.rows.size(), 2u);
  for (const char* png : {"tiny_accuracy.png", "tiny_loss.png"})
    EXPECT_TRUE(myoexo::test::read_png_header(s.dir / "out" / png).has_value()) << png;
  EXPECT_GT(fs::file_size(s.dir / "out" / "tiny.ts"), 0u);
  EXPECT_NE(s.train.out.find("best epoch"), std::string::npos) << s.train.out;
  EXPECT_NE(s.train.out.find("1A 2A"), std::string::npos) << s.train.out;  // only the chosen subjects
}

// A config that renames the data set's classes and adds the wavelet stage: the model file keeps the names, the
// stage and an intent for every renamed class, and `run` drives the exoskeleton with them.
TEST(TrainCmd, AClassMapAndTheWaveletStageReachTheModelFileAndTheRun) {
  REQUIRE_DATA();
  const Shared& s = shared();
  std::string text = slurp(write_tiny_config(s.dir / "named.toml"));
  text.replace(text.find("[input.filter]"), 0,
               "[input.class_map]\ngait = \"leg move\"\nstanding = \"leg lift\"\nsitting = \"leg descent\"\n"
               "[input.denoise]\nkind = \"wavelet\"\n");
  std::ofstream(s.dir / "named.toml", std::ios::trunc) << text;
  const fs::path model = s.dir / "out" / "named.pt";
  auto r = run_myoexo({"train", "--quiet", "--config", (s.dir / "named.toml").string(), "--dataset", s.data.string(),
                       "--subject", "1A", "--bandpass", "20", "150", "--out", model.string(), "--no-plots"});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto net = myoexo::models::TorchClassifier::load(model);
  ASSERT_TRUE(net) << net.error().message();
  const auto& spec = net->spec();
  EXPECT_EQ(spec.class_names, (std::vector<std::string>{"leg descent", "leg lift", "leg move"}));
  EXPECT_EQ(spec.input.filter.high_hz, 150.0);  // --bandpass over the config's 450
  ASSERT_TRUE(spec.input.filter.denoise);
  EXPECT_EQ(spec.input.filter.denoise->delay_samples(), 32u);
  const std::vector<std::pair<std::string, std::string>> intents{
      {"leg move", "gait"}, {"leg lift", "lift"}, {"leg descent", "lower"}};
  for (const auto& want : intents)
    EXPECT_NE(std::find(spec.card.class_intents.begin(), spec.card.class_intents.end(), want),
              spec.card.class_intents.end())
        << want.first;
  r = run_myoexo({"run", "--replay", (*uci_root() / "N_TXT" / "1Nmar.txt").string(), "--model", model.string(), "--out",
                  (s.dir / "run_named").string(), "--no-plots"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("wavelet stage delay 32 ms"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(s.dir / "run_named" / "summary.json"));
  EXPECT_EQ(j["class_to_intent"]["leg lift"], "lift");
}

TEST(TrainCmd, PredictWritesOneRowPerWindowWithProbabilitiesSummingToOne) {
  REQUIRE_DATA();
  const Shared& s = shared();
  const fs::path input = *uci_root() / "N_TXT" / "1Nsen.txt";
  const fs::path csv = s.dir / "pred" / "1Nsen.csv";
  const auto r = run_myoexo({"predict", "--model", s.model.string(), "--input", input.string(), "--out", csv.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto rec = myoexo::io::read_recording(input);
  ASSERT_TRUE(rec);
  const std::size_t n_windows = (rec->n_samples - 250) / 50 + 1;
  const auto t = myoexo::test::read_table(csv);
  ASSERT_EQ(t.header.size(), 6u);
  EXPECT_EQ(t.header[0], "window_start_s");
  EXPECT_EQ(t.header[3], "p_gait");
  ASSERT_EQ(t.rows.size(), n_windows);
  for (std::size_t w = 0; w < t.rows.size(); ++w) {
    ASSERT_EQ(t.rows[w].size(), 6u);
    EXPECT_NEAR(t.rows[w][0], 0.05 * double(w), 1e-9);
    EXPECT_NEAR(t.rows[w][1] - t.rows[w][0], 0.25, 1e-9);
    EXPECT_NEAR(t.rows[w][3] + t.rows[w][4] + t.rows[w][5], 1.0, 1e-4) << "row " << w;
  }
  // The file's label is known (sitting): the accuracy line is printed.
  EXPECT_NE(r.out.find("accuracy against the file's label 'sitting'"), std::string::npos) << r.out;
}

// A network file says what it was trained in and on, and which intent each class drives, as a pipeline model does;
// `info` shows it.
TEST(TrainCmd, NetworkModelFileCarriesUnitClassMapTrainingFilesAndProvenance) {
  REQUIRE_DATA();
  const Shared& s = shared();
  auto m = myoexo::app::load_model(s.model);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->signal_unit, "mV");
  EXPECT_EQ(m->network_arch, "cnn1d");
  auto intents = myoexo::session::model_class_intents(*m);
  ASSERT_TRUE(intents) << intents.error().message();
  EXPECT_EQ(*intents, (std::vector<myoexo::control::IntentLabel>{myoexo::control::IntentLabel::gait,
                                                                 myoexo::control::IntentLabel::lower,
                                                                 myoexo::control::IntentLabel::lift}));
  // 1A and 2A (three files each), not 1N.
  ASSERT_EQ(m->trained_on.size(), 6u);
  for (const auto& f : m->trained_on) EXPECT_TRUE(f.rfind("1A", 0) == 0 || f.rfind("2A", 0) == 0) << f;
  EXPECT_FALSE(m->provenance.version.empty());
  EXPECT_FALSE(m->provenance.created_utc.empty());
  const auto info = run_myoexo({"info", s.model.string()});
  ASSERT_EQ(info.rc, 0) << info.err;
  for (const char* want : {"cnn1d model", "(in mV)", "sitting -> lower", "standing -> lift", "trained on  6 recording",
                           "written by  myoexo"})
    EXPECT_NE(info.out.find(want), std::string::npos) << want << "\n" << info.out;
}

// `evaluate --model-file` scores the trained network on what it did not see (1N: the model trained on 1A and 2A),
// window by window exactly as `predict` classifies them.
TEST(TrainCmd, EvaluateModelFileScoresOnlyUnseenRecordingsAsPredictDoes) {
  REQUIRE_DATA();
  const Shared& s = shared();
  const fs::path out = s.dir / "eval_model_file";
  const auto r = run_myoexo({"evaluate", "-q", "--model-file", s.model.string(), "--dataset", s.data.string(), "--out",
                             out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(out / "metrics.json"));
  EXPECT_EQ(j["recordings_tested"].get<std::size_t>(), 3u);
  EXPECT_EQ(j["recordings_skipped_trained_on"].size(), 6u);
  EXPECT_EQ(j["by_subject"].size(), 1u);
  EXPECT_TRUE(j["by_subject"].contains("1N"));
  // The same windows through `predict`, file by file: the same count and the same number right.
  std::size_t windows = 0, correct = 0;
  const std::vector<std::string> classes{"gait", "sitting", "standing"};
  for (const char* f : {"1Nmar", "1Nsen", "1Npie"}) {
    const fs::path csv = s.dir / "eval_predict" / (std::string(f) + ".csv");
    const auto p = run_myoexo({"predict", "--model", s.model.string(), "--input",
                               (*uci_root() / "N_TXT" / (std::string(f) + ".txt")).string(), "--out", csv.string()});
    ASSERT_EQ(p.rc, 0) << p.err;
    const auto t = myoexo::test::read_table(csv);
    const std::size_t truth = std::string(f).ends_with("mar") ? 0 : std::string(f).ends_with("sen") ? 1 : 2;
    for (const auto& row : t.rows) {
      const std::size_t pred = std::size_t(std::max_element(row.begin() + 3, row.end()) - (row.begin() + 3));
      ++windows;
      correct += pred == truth;
    }
  }
  EXPECT_EQ(j["windows"].get<std::size_t>(), windows);
  EXPECT_NEAR(j["accuracy"].get<double>(), double(correct) / double(windows), 1e-12);
  std::size_t confusion_total = 0;
  for (const auto& v : j["confusion"]) confusion_total += v.get<std::size_t>();
  EXPECT_EQ(confusion_total, windows);
  for (const char* png : {"confusion.png", "per_class.png"})
    EXPECT_TRUE(myoexo::test::read_png_header(out / png).has_value()) << png;
  EXPECT_NE(slurp(out / "summary.md").find("6 recording(s) the model was trained on"), std::string::npos);
  // Only the training subjects: nothing left to test, said so.
  const auto none = run_myoexo({"evaluate", "-q", "--model-file", s.model.string(), "--dataset", s.data.string(),
                                "--subject", "1A", "--out", (s.dir / "eval_none").string()});
  EXPECT_NE(none.rc, 0);
  EXPECT_NE(none.err.find("in the model's training set"), std::string::npos) << none.err;
}

// `train --model NAME` with a network config name trains that network (as --config NAME would).
TEST(TrainCmd, ModelOptionTakesANetworkConfigName) {
  const fs::path dir = myoexo::test::fresh_dir("net_" + std::to_string(::getpid()));
  const fs::path data = myoexo::test::write_uci_folder(dir / "data", 3000);
  const fs::path config = write_tiny_config(dir / "tiny.toml");
  const auto tr = run_myoexo({"train", "-q", "--model", config.string(), "--dataset", data.string(), "--out",
                              (dir / "net.pt").string(), "--no-plots"});
  ASSERT_EQ(tr.rc, 0) << tr.err;
  auto m = myoexo::app::load_model(dir / "net.pt");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->network_arch, "cnn1d");
  EXPECT_EQ(m->trained_on.size(), 6u);
  const auto bad = run_myoexo({"train", "-q", "--model", "no_such_net", "--dataset", data.string()});
  EXPECT_NE(bad.rc, 0);

  // --init: fine-tuning that network further; the file says where it started.
  const auto again = run_myoexo({"train", "-q", "--model", config.string(), "--init", (dir / "net.pt").string(),
                                 "--dataset", data.string(), "--out", (dir / "net2.pt").string(), "--no-plots"});
  ASSERT_EQ(again.rc, 0) << again.err;
  auto m2 = myoexo::app::load_model(dir / "net2.pt");
  ASSERT_TRUE(m2) << m2.error().message();
  EXPECT_NE(m2->adapted_from.find("net.pt"), std::string::npos) << m2->adapted_from;
  EXPECT_EQ(m2->trained_on.size(), 12u);  // the start's 6 files, then these 6 again
  auto before = myoexo::app::load_model(dir / "net.pt");
  auto rec = myoexo::io::read_recording(data / "N_TXT" / "1Nmar.txt");
  ASSERT_TRUE(before && rec);
  EXPECT_NE(myoexo::app::model_window_probabilities(*before, *rec)->probs,
            myoexo::app::model_window_probabilities(*m2, *rec)->probs);
  // A start that takes other channels is refused, naming both.
  myoexo::models::NetworkSpec other;
  other.input.channel_names = {"RF", "XX"};
  other.arch.filters = {4};
  other.class_names = {"gait", "sitting", "standing"};
  auto o = myoexo::models::TorchClassifier::create(other, 1);
  ASSERT_TRUE(o && o->save(dir / "other.pt"));
  const auto refused = run_myoexo({"train", "-q", "--model", config.string(), "--init", (dir / "other.pt").string(),
                                   "--dataset", data.string(), "--out", (dir / "net3.pt").string(), "--no-plots"});
  EXPECT_NE(refused.rc, 0);
  EXPECT_NE(refused.err.find("XX"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(dir / "net3.pt"));
}

TEST(TrainCmd, PredictRejectsModelForOtherChannels) {
  REQUIRE_DATA();
  myoexo::models::NetworkSpec spec;
  spec.input.channel_names = {"RF", "XX"};
  spec.arch.filters = {4};
  spec.class_names = {"a", "b"};
  auto model = myoexo::models::TorchClassifier::create(spec, 1);
  ASSERT_TRUE(model) << model.error().message();
  const fs::path file = shared().dir / "other_channels.pt";
  ASSERT_TRUE(model->save(file));
  const auto r = run_myoexo({"predict", "--model", file.string(), "--input",
                             (*uci_root() / "A_TXT" / "1Amar.txt").string()});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("missing XX"), std::string::npos) << r.err;
}

// `train --model lda_context` writes the pipeline model `run` and `predict` load; `predict` runs it through the live
// pipeline's own windows and features, in the model's unit: a recording in volts gives the same predictions as the
// same recording in millivolts, and a recording without units is refused, never guessed.
TEST(TrainCmd, LdaModelTrainsPredictsAndConvertsOrRefusesUnits) {
  const fs::path dir = myoexo::test::fresh_dir("lda_" + std::to_string(::getpid()));
  const fs::path data = myoexo::test::write_uci_folder(dir / "data", 3000);
  const fs::path model = dir / "lda.json";
  const auto tr = run_myoexo({"train", "-q", "--model", "lda_context", "--context", "500", "--dataset", data.string(),
                              "--out", model.string()});
  ASSERT_EQ(tr.rc, 0) << tr.err;
  auto m = myoexo::session::load_pipeline_model(model);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->context_samples, 500u);
  EXPECT_TRUE(m->log_amplitude);
  EXPECT_EQ(m->signal_unit, "mV");
  EXPECT_FALSE(m->provenance.version.empty());
  EXPECT_EQ(m->trained_on.size(), 6u);

  const fs::path input = data / "N_TXT" / "1Nmar.txt";
  const auto mv = run_myoexo({"predict", "--model", model.string(), "--input", input.string(), "--out",
                              (dir / "mv.csv").string()});
  ASSERT_EQ(mv.rc, 0) << mv.err;
  const auto t_mv = myoexo::test::read_table(dir / "mv.csv");
  ASSERT_EQ(t_mv.rows.size(), (3000u - 250u) / 50u + 1u);
  for (const auto& row : t_mv.rows) EXPECT_NEAR(row[3] + row[4] + row[5], 1.0, 1e-5);
  EXPECT_NE(mv.out.find("accuracy against the file's label 'gait'"), std::string::npos) << mv.out;

  // The same samples in volts, then without a unit.
  auto rec = myoexo::io::read_recording(input).value();
  auto write_csv = [&](const fs::path& p, const char* unit, double scale) {
    std::ofstream f(p);
    f << "time_s";
    for (const char* c : {"RF", "BF", "VM", "ST"}) f << "," << c << unit;
    f << "\n";
    char buf[64];
    for (std::size_t i = 0; i < rec.n_samples; ++i) {
      std::snprintf(buf, sizeof buf, "%.6f", double(i) / 1000.0);
      f << buf;
      for (std::size_t c = 0; c < 4; ++c) {
        std::snprintf(buf, sizeof buf, ",%.10g", rec.samples[c * rec.n_samples + i] * scale);
        f << buf;
      }
      f << "\n";
    }
  };
  write_csv(dir / "volts.csv", " [V]", 1e-3);
  const auto v = run_myoexo({"predict", "--model", model.string(), "--input", (dir / "volts.csv").string(), "--out",
                             (dir / "v.csv").string()});
  ASSERT_EQ(v.rc, 0) << v.err;
  const auto t_v = myoexo::test::read_table(dir / "v.csv");
  ASSERT_EQ(t_v.rows.size(), t_mv.rows.size());
  for (std::size_t w = 0; w < t_v.rows.size(); ++w)
    for (std::size_t c = 3; c < 6; ++c) EXPECT_NEAR(t_v.rows[w][c], t_mv.rows[w][c], 1e-4) << "window " << w;
  write_csv(dir / "nounit.csv", "", 1.0);
  const auto nu = run_myoexo({"predict", "--model", model.string(), "--input", (dir / "nounit.csv").string()});
  EXPECT_NE(nu.rc, 0);
  EXPECT_NE(nu.err.find("no unit"), std::string::npos) << nu.err;
  // Both kinds of model at once is a usage error.
  const auto both = run_myoexo({"train", "-q", "--model", "lda", "--config", "cnn1d", "--out", (dir / "x").string()});
  EXPECT_NE(both.rc, 0);
}

// `train --model lda_context --knee-model ridge|trees` adds the knee-angle regressor to the model file `run`
// loads for proportional mode; trees on an LDA without the past they read are refused with the fix named.
TEST(TrainCmd, AnLdaModelCarriesTheKneeAngleRegressorItWasAskedFor) {
  const fs::path dir = myoexo::test::fresh_dir("knee_" + std::to_string(::getpid()));
  const fs::path data = myoexo::test::write_uci_folder(dir / "data", 4000);
  for (const char* kind : {"ridge", "trees"}) {
    if (std::string(kind) == "trees" && !myoexo::models::gradient_boosting_available()) continue;
    const fs::path model = dir / (std::string(kind) + ".json");
    const auto tr = run_myoexo({"train", "-q", "--model", "lda_context", "--context", "750", "--knee-model", kind,
                                "--dataset", data.string(), "--out", model.string()});
    ASSERT_EQ(tr.rc, 0) << tr.err;
    EXPECT_NE(tr.out.find(std::string("with a knee-angle ") + kind + " regressor"), std::string::npos) << tr.out;
    auto m = myoexo::session::load_pipeline_model(model);
    ASSERT_TRUE(m) << m.error().message();
    ASSERT_TRUE(m->knee_angle);
    EXPECT_EQ(m->knee_angle->kind_name(), kind);
    const auto r = run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nsen.txt").string(), "--model", model.string(),
                               "--proportional", "--seconds", "3", "--out", (dir / kind).string(), "--no-plots"});
    ASSERT_EQ(r.rc, 0) << r.err;
    const auto s = nlohmann::json::parse(myoexo::test::slurp(dir / kind / "summary.json"));
    EXPECT_TRUE(s["knee_tracking"]["estimate_rmse_deg"].is_number()) << kind;
  }
  if (myoexo::models::gradient_boosting_available()) {
    const auto bad = run_myoexo({"train", "-q", "--model", "lda", "--knee-model", "trees", "--dataset", data.string(),
                                 "--out", (dir / "bad.json").string()});
    EXPECT_NE(bad.rc, 0);
    EXPECT_NE(bad.err.find("--model lda_context --context 750"), std::string::npos) << bad.err;
    EXPECT_FALSE(fs::exists(dir / "bad.json"));

    // A person's trees: pooled over 1N and 2A with a subject indicator, fixed at 1N, mixed with 1N's own.
    const fs::path person = dir / "person.json";
    const auto pt = run_myoexo({"train", "--model", "lda_context", "--context", "750", "--knee-model", "trees",
                                "--knee-person", "1N", "--dataset", data.string(), "--out", person.string()});
    ASSERT_EQ(pt.rc, 0) << pt.err;
    EXPECT_NE(pt.err.find("knee-angle trees of 1N: pooled over 2 subjects"), std::string::npos) << pt.err;
    auto pm = myoexo::session::load_pipeline_model(person);
    auto plain = myoexo::session::load_pipeline_model(dir / "trees.json");
    ASSERT_TRUE(pm && plain);
    ASSERT_TRUE(pm->knee_angle);
    EXPECT_EQ(pm->knee_angle->kind_name(), "trees");
    const auto pj = myoexo::test::slurp(person), tj = myoexo::test::slurp(dir / "trees.json");
    EXPECT_NE(pj, tj);  // other trees than the model over everyone
    const auto pr = run_myoexo({"run", "--replay", (data / "N_TXT" / "1Nsen.txt").string(), "--model", person.string(),
                                "--proportional", "--seconds", "3", "--out", (dir / "person_run").string(),
                                "--no-plots"});
    ASSERT_EQ(pr.rc, 0) << pr.err;
    const auto ps = nlohmann::json::parse(myoexo::test::slurp(dir / "person_run" / "summary.json"));
    EXPECT_TRUE(ps["knee_tracking"]["estimate_rmse_deg"].is_number());
    // Someone without recordings here, or a person without trees to train: refused, nothing written.
    const auto nobody = run_myoexo({"train", "-q", "--model", "lda_context", "--context", "750", "--knee-model",
                                    "trees", "--knee-person", "9Z", "--dataset", data.string(), "--out",
                                    (dir / "nobody.json").string()});
    EXPECT_NE(nobody.rc, 0);
    EXPECT_NE(nobody.err.find("subjects: 1N, 2A"), std::string::npos) << nobody.err;
    EXPECT_FALSE(fs::exists(dir / "nobody.json"));
  }
  const auto ridge_person = run_myoexo({"train", "-q", "--model", "lda_context", "--knee-model", "ridge",
                                        "--knee-person", "1N", "--dataset", data.string(), "--out",
                                        (dir / "ridge_person.json").string()});
  EXPECT_NE(ridge_person.rc, 0);
  EXPECT_NE(ridge_person.err.find("needs --knee-model trees"), std::string::npos) << ridge_person.err;
}

TEST(TrainCmd, BadConfigOrSubjectIsAUsageError) {
  const auto missing = run_myoexo({"train", "--config", "/nonexistent/tiny.toml"});
  EXPECT_EQ(missing.rc, myoexo::app::kExitUsage);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  const auto cal_mode = run_myoexo({"calibrate", "--modes", "sideways"});
  EXPECT_EQ(cal_mode.rc, myoexo::app::kExitUsage);
  EXPECT_NE(cal_mode.err.find("head or full"), std::string::npos) << cal_mode.err;
  REQUIRE_DATA();
  const Shared& s = shared();
  const auto unknown = run_myoexo({"train", "-q", "--config", s.config.string(), "--dataset", s.data.string(),
                                   "--subject", "99Z", "--out", (s.dir / "never.pt").string()});
  EXPECT_EQ(unknown.rc, myoexo::app::kExitUsage);
  EXPECT_NE(unknown.err.find("unknown subject '99Z'"), std::string::npos) << unknown.err;
  EXPECT_FALSE(fs::exists(s.dir / "never.pt"));
  const auto cal_unknown = run_myoexo({"calibrate", "-q", "--config", s.config.string(), "--dataset", s.data.string(),
                                       "--subject", "99Z", "--out", (s.dir / "cal_never").string()});
  EXPECT_EQ(cal_unknown.rc, myoexo::app::kExitUsage);
  EXPECT_NE(cal_unknown.err.find("unknown subject"), std::string::npos) << cal_unknown.err;
  // 1A's recordings are all shorter than 20 s: no test window after N = 20, said before any training.
  const auto too_long = run_myoexo({"calibrate", "-q", "--config", s.config.string(), "--dataset", s.data.string(),
                                    "--subject", "1A", "--seconds", "2,20", "--out", (s.dir / "cal_never").string()});
  EXPECT_EQ(too_long.rc, myoexo::app::kExitUsage);
  EXPECT_NE(too_long.err.find("subject 1A's longest recording"), std::string::npos) << too_long.err;
}

TEST(TrainCmd, CalibrateWithoutTheSubjectsLosoModelFileSaysWhichFileIsMissing) {
  REQUIRE_DATA();
  const Shared& s = shared();
  const fs::path empty = s.dir / "no_loso_models";
  fs::create_directories(empty);
  const fs::path out = s.dir / "cal_without_models";
  const auto r = run_myoexo({"calibrate", "-q", "--config", s.config.string(), "--dataset", s.data.string(),
                             "--subject", "1A", "--seconds", "2", "--fine-tune-epochs", "1", "--jobs", "1",
                             "--loso-models", empty.string(), "--out", out.string()});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("no leave-one-subject-out model for subject 1A"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find((empty / "L_1A.pt").string()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out / "calibration.json"));
}

TEST(TrainCmd, CalibrateWritesEveryCellForTheHeldOutSubject) {
  REQUIRE_DATA();
  const Shared& s = shared();
  const fs::path out = s.dir / "calibration";
  const auto r = run_myoexo({"calibrate", "-q", "--config", s.config.string(), "--dataset", s.data.string(),
                             "--subject", "1A", "--seconds", "2,5", "--modes", "head,full", "--epochs", "1",
                             "--fine-tune-epochs", "1", "--jobs", "1", "--out", out.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(out / "calibration.json"));
  EXPECT_EQ(j["held_out"], nlohmann::json::array({"1A"}));
  EXPECT_EQ(j["subjects"].size(), 3u);  // 1A held out, 2A and 1N train the LOSO model
  ASSERT_EQ(j["cells"].size(), 5u);     // the 0-s baseline + 2 durations x 2 modes
  std::size_t baseline = 0;
  for (const auto& c : j["cells"]) {
    EXPECT_EQ(c["subject"], "1A");
    const double acc = c["accuracy"].get<double>();
    EXPECT_GE(acc, 0.0);
    EXPECT_LE(acc, 1.0);
    EXPECT_GT(c["n_test"].get<std::size_t>(), 0u);
    if (c["seconds"].get<double>() == 0.0) ++baseline;
    else EXPECT_GE(c["n_calibration"].get<std::size_t>(), 2u);
  }
  EXPECT_EQ(baseline, 1u);
  EXPECT_EQ(j["mean"]["head"].size(), 2u);
  EXPECT_EQ(j["mean"]["full"].size(), 2u);
  const std::string md = slurp(out / "calibration.md");
  EXPECT_NE(md.find("| 0 (LOSO model) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 5 |"), std::string::npos) << md;
  EXPECT_TRUE(myoexo::test::read_png_header(out / "calibration.png").has_value());
  EXPECT_NE(r.out.find("| 2 |"), std::string::npos) << r.out;  // the table is printed too
}

// A new person's calibration as a clinic runs it: a base model (trained on 1A and 2A) and 10 s of each of 1N's
// recordings give a personal model file that `run` loads, says what it was adapted from, and is scored against the
// base on the rest of 1N's recordings.
TEST(TrainCmd, CalibrateModelWritesAPersonalModelThatRunLoads) {
  REQUIRE_DATA();
  const Shared& s = shared();
  const fs::path dir = s.dir / "personal";
  fs::create_directories(dir);
  auto report_of = [](const fs::path& model) {
    fs::path r = model;
    r.replace_extension(".calibration.json");
    return nlohmann::json::parse(slurp(r));
  };

  // The LDA family: the discriminant refitted on the person's windows. Measured: 52.7 % -> 95.2 % on 188 windows.
  const fs::path lda_base = dir / "base.json", lda_1n = dir / "1N.json";
  ASSERT_EQ(run_myoexo({"train", "-q", "--model", "lda_context", "--dataset", s.data.string(), "--subject", "1A,2A",
                        "--out", lda_base.string()}).rc, 0);
  const auto lda = run_myoexo({"calibrate", "-q", "--model", lda_base.string(), "--dataset", s.data.string(),
                               "--subject", "1N", "--seconds", "10", "--out", lda_1n.string()});
  ASSERT_EQ(lda.rc, 0) << lda.err;
  auto m = myoexo::app::load_model(lda_1n);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_NE(m->adapted_from.find("base.json"), std::string::npos) << m->adapted_from;
  EXPECT_NE(m->adapted_from.find("1N"), std::string::npos) << m->adapted_from;
  EXPECT_EQ(m->trained_on.size(), 3u);  // 1N's three recordings (their first 10 s)
  const auto lj = report_of(lda_1n);
  EXPECT_GT(lj["test"]["windows"].get<std::size_t>(), 100u);
  const double before = lj["test"]["base_accuracy"].get<double>(), after = lj["test"]["calibrated_accuracy"].get<double>();
  EXPECT_GT(after, before) << "the personal model decides the person's movements better than the base";
  EXPECT_GE(after, 0.85);
  const auto replay = run_myoexo({"run", "-q", "--replay", (*uci_root() / "N_TXT" / "1Nmar.txt").string(), "--model",
                                  lda_1n.string(), "--seconds", "2", "--no-plots", "--out", (dir / "run").string()});
  EXPECT_EQ(replay.rc, 0) << replay.err;

  // A network: fine-tuned (head only, 3 epochs) from the shared tiny model.
  const fs::path net_1n = dir / "1N.pt";
  const auto net = run_myoexo({"calibrate", "-q", "--config", s.config.string(), "--model", s.model.string(),
                               "--dataset", s.data.string(), "--subject", "1N", "--seconds", "10", "--modes", "head",
                               "--fine-tune-epochs", "3", "--out", net_1n.string()});
  ASSERT_EQ(net.rc, 0) << net.err;
  auto base = myoexo::app::load_model(s.model);
  auto personal = myoexo::app::load_model(net_1n);
  ASSERT_TRUE(base && personal);
  EXPECT_EQ(personal->trained_on.size(), base->trained_on.size() + 3);
  EXPECT_NE(personal->adapted_from.find("head"), std::string::npos) << personal->adapted_from;
  auto rec = myoexo::io::read_recording(*uci_root() / "N_TXT" / "1Npie.txt");
  ASSERT_TRUE(rec);
  auto pb = myoexo::app::model_window_probabilities(*base, *rec);
  auto pp = myoexo::app::model_window_probabilities(*personal, *rec);
  ASSERT_TRUE(pb && pp);
  EXPECT_NE(pb->probs, pp->probs) << "the fine-tuning changed the network";
  const auto nj = report_of(net_1n);
  EXPECT_GT(nj["test"]["windows"].get<std::size_t>(), 100u);
  EXPECT_EQ(nj["calibration"]["recordings"].size(), 3u);

  // Refused: several durations, or a person who did not record every class the model decides.
  const auto two = run_myoexo({"calibrate", "-q", "--model", lda_base.string(), "--dataset", s.data.string(),
                               "--subject", "1N", "--seconds", "5,10", "--out", (dir / "x.json").string()});
  EXPECT_NE(two.rc, 0);
  EXPECT_NE(two.err.find("one duration"), std::string::npos) << two.err;
  const fs::path one_class = dir / "one_class";
  fs::create_directories(one_class / "N_TXT");
  fs::create_symlink(*uci_root() / "N_TXT" / "1Nmar.txt", one_class / "N_TXT" / "1Nmar.txt");
  const auto missing = run_myoexo({"calibrate", "-q", "--model", lda_base.string(), "--dataset", one_class.string(),
                                   "--seconds", "10", "--out", (dir / "y.json").string()});
  EXPECT_NE(missing.rc, 0);
  EXPECT_FALSE(fs::exists(dir / "y.json"));
}

TEST(TrainCmd, CalibrateAdaptsAnLdaModelFromTwoSecondsAndFromOneClass) {
  REQUIRE_DATA();
  const Shared& s = shared();
  const fs::path dir = s.dir / "adapt";
  fs::create_directories(dir);
  const fs::path base = dir / "base.json";
  ASSERT_EQ(run_myoexo({"train", "-q", "--model", "lda_context", "--dataset", s.data.string(), "--subject", "1A,2A",
                        "--out", base.string()}).rc, 0);
  // 2 s per recording: the base moved towards the person; the report and the model card say how.
  const fs::path adapted = dir / "1N_adapt.json";
  const auto r = run_myoexo({"calibrate", "-q", "--model", base.string(), "--dataset", s.data.string(), "--subject",
                             "1N", "--seconds", "2", "--test-from", "10", "--lda-method", "adapt", "--base-weight",
                             "100", "--out", adapted.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto m = myoexo::app::load_model(adapted);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_NE(m->adapted_from.find("adapted"), std::string::npos) << m->adapted_from;
  EXPECT_EQ(m->lda.covariance().size(), m->lda.n_inputs() * m->lda.n_inputs());
  fs::path report = adapted;
  report.replace_extension(".calibration.json");
  const auto j = nlohmann::json::parse(slurp(report));
  EXPECT_NE(j["calibration"]["method"].get<std::string>().find("adapted"), std::string::npos);
  const double before = j["test"]["base_accuracy"].get<double>(), after = j["test"]["calibrated_accuracy"].get<double>();
  EXPECT_GT(after, before) << "two seconds of the person already help the adapted model";
  // One class recorded (a refit needs two): the adapted model keeps the other classes' means from the base.
  const fs::path one_class = dir / "one_class";
  fs::create_directories(one_class / "N_TXT");
  fs::create_symlink(*uci_root() / "N_TXT" / "1Nmar.txt", one_class / "N_TXT" / "1Nmar.txt");
  const fs::path partial = dir / "1N_gait.json";
  EXPECT_EQ(run_myoexo({"calibrate", "-q", "--model", base.string(), "--dataset", one_class.string(), "--seconds", "5",
                        "--lda-method", "adapt", "--out", partial.string()}).rc, 0);
  auto pm = myoexo::app::load_model(partial);
  ASSERT_TRUE(pm) << pm.error().message();
  auto bm = myoexo::app::load_model(base);
  ASSERT_TRUE(bm);
  const std::size_t p = bm->lda.n_inputs();
  const auto& names = bm->lda.class_names();
  const std::size_t gait = std::size_t(std::find(names.begin(), names.end(), "gait") - names.begin());
  for (std::size_t k = 0; k < names.size(); ++k) {
    const bool same = std::equal(pm->lda.means().begin() + std::ptrdiff_t(k * p), pm->lda.means().begin() + std::ptrdiff_t((k + 1) * p),
                                 bm->lda.means().begin() + std::ptrdiff_t(k * p));
    EXPECT_EQ(same, k != gait) << names[k];
  }
  // Refused: --base-weight without adapt, --lda-method on a network, a negative weight.
  EXPECT_NE(run_myoexo({"calibrate", "-q", "--model", base.string(), "--dataset", s.data.string(), "--subject", "1N",
                        "--seconds", "2", "--base-weight", "50", "--out", (dir / "z.json").string()}).rc, 0);
  const auto net = run_myoexo({"calibrate", "-q", "--config", s.config.string(), "--model", s.model.string(),
                               "--dataset", s.data.string(), "--subject", "1N", "--seconds", "2", "--lda-method",
                               "adapt", "--out", (dir / "z.pt").string()});
  EXPECT_NE(net.rc, 0);
  EXPECT_NE(net.err.find("network"), std::string::npos) << net.err;
  EXPECT_NE(run_myoexo({"calibrate", "-q", "--model", base.string(), "--dataset", s.data.string(), "--subject", "1N",
                        "--seconds", "2", "--lda-method", "adapt", "--base-weight", "-1", "--out",
                        (dir / "z.json").string()}).rc, 0);
  EXPECT_FALSE(fs::exists(dir / "z.json"));
  EXPECT_FALSE(fs::exists(dir / "z.pt"));
}

#endif  // MYOEXO_HAVE_TORCH
