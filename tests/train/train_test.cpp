#include "train/train.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "common/test_data.hpp"
#include "models/torch/synthetic_windows.hpp"
#include "models/torch/torch_test_util.hpp"

namespace myoexo::train {
namespace {

using models::ArchKind;

TrainingSet to_set(const test::SyntheticWindows& s) {
  TrainingSet d;
  d.channels = s.channels;
  d.length = s.length;
  d.X = s.x;
  d.y = s.y;
  return d;
}

TrainConfig quick_config(std::size_t epochs = 6) {
  TrainConfig c;
  c.epochs = epochs;
  c.batch_size = 16;
  c.learning_rate = 1e-2;
  c.validation = ValidationSplit::none;
  c.seed = 3;
  return c;
}

double accuracy(models::TorchClassifier& m, const test::SyntheticWindows& s) {
  std::vector<double> x = s.as_double(), p(s.n * m.n_classes());
  std::vector<int> labels(s.n);
  EXPECT_TRUE(m.predict(x.data(), s.n, m.n_inputs(), p.data(), labels.data()));
  std::size_t ok = 0;
  for (std::size_t i = 0; i < s.n; ++i) ok += labels[i] == s.y[i];
  return double(ok) / double(s.n);
}

TEST(Train, Cnn1dLearnsSeparableSyntheticWindows) {
  auto train_data = test::make_synthetic_windows(240, 3, 64, 3, 1);
  auto test_data = test::make_synthetic_windows(90, 3, 64, 3, 2);
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d), to_set(train_data), quick_config());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_GE(accuracy(r->model, test_data), 0.95);
  EXPECT_EQ(r->history.epochs.size(), 6u);
  EXPECT_GT(r->history.epochs.front().train_loss, r->history.epochs.back().train_loss);
  EXPECT_GT(r->history.samples_per_second, 0.0);
}

// Regression: one output, squared error, the target a property of each window (its amplitude class as a number);
// accuracies are NaN, the loss falls, and a classifier set with one class or a target of the wrong size is refused.
TEST(Train, AOneOutputNetworkLearnsAContinuousTarget) {
  auto data = test::make_synthetic_windows(240, 3, 64, 3, 1);
  TrainingSet d = to_set(data);
  d.target.resize(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) d.target[i] = float(d.y[i]) - 1.0f;  // -1, 0, 1
  std::fill(d.y.begin(), d.y.end(), 0);
  auto spec = test::tiny_spec(ArchKind::cnn1d);
  spec.class_names = {"value"};
  auto r = train_network(spec, d, quick_config(10));
  ASSERT_TRUE(r) << r.error().message();
  const auto& e = r->history.epochs;
  EXPECT_TRUE(std::isnan(e.back().train_accuracy));
  EXPECT_LT(e.back().train_loss, 0.5 * e.front().train_loss);
  std::vector<double> x = data.as_double(), out(data.n);
  ASSERT_TRUE(r->model.predict_outputs(x.data(), data.n, r->model.n_inputs(), out.data()));
  double se = 0;
  for (std::size_t i = 0; i < data.n; ++i) se += (out[i] - (data.y[i] - 1.0)) * (out[i] - (data.y[i] - 1.0));
  EXPECT_LT(se / double(data.n), 0.3) << "MSE of the target (variance 2/3)";

  TrainingSet bad = d;
  bad.target.pop_back();
  EXPECT_FALSE(train_network(spec, bad, quick_config(1)));
  bad = d;
  bad.target.clear();  // one output name but no target: a one-class classifier
  EXPECT_FALSE(train_network(spec, bad, quick_config(1)));
}

TEST(Train, EveryOtherArchitectureLearnsBetterThanChance) {
  auto train_data = test::make_synthetic_windows(240, 3, 64, 3, 1);
  auto test_data = test::make_synthetic_windows(90, 3, 64, 3, 2);
  for (ArchKind kind : {ArchKind::spectrogram_cnn, ArchKind::lstm, ArchKind::cnn_lstm}) {
    auto r = train_network(test::tiny_spec(kind), to_set(train_data), quick_config(8));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_GE(accuracy(r->model, test_data), 0.8) << models::arch_kind_name(kind);
  }
}

TEST(Train, NormalisationIsFittedOnTheTrainingWindowsOnly) {
  auto s = test::make_synthetic_windows(40, 3, 64, 2, 5);
  TrainingSet d = to_set(s);
  d.recording.assign(40, 0);
  // The last 20 % (validation) windows get a huge offset: the fitted mean must not see it.
  for (std::size_t i = 32; i < 40; ++i)
    for (std::size_t j = 0; j < 3 * 64; ++j) d.X[i * 192 + j] += 100.0f;
  TrainConfig c = quick_config(1);
  c.validation = ValidationSplit::chronological;
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d, 3, 64, 2), d, c);
  ASSERT_TRUE(r) << r.error().message();
  auto expected = fit_normalisation(d.X.data(), 32, 3, 64);
  EXPECT_EQ(r->model.spec().normalisation.mean, expected.mean);
  EXPECT_EQ(r->model.spec().normalisation.std, expected.std);
  for (double m : expected.mean) EXPECT_LT(std::abs(m), 1.0);
}

TEST(Train, SameSeedGivesIdenticalModels) {
  auto s = test::make_synthetic_windows(96, 3, 64, 3, 6);
  auto a = train_network(test::tiny_spec(ArchKind::cnn1d), to_set(s), quick_config(2));
  auto b = train_network(test::tiny_spec(ArchKind::cnn1d), to_set(s), quick_config(2));
  ASSERT_TRUE(a && b);
  std::vector<double> x = s.as_double(), pa(96 * 3), pb(96 * 3);
  ASSERT_TRUE(a->model.predict_proba(x.data(), 96, a->model.n_inputs(), pa.data()));
  ASSERT_TRUE(b->model.predict_proba(x.data(), 96, b->model.n_inputs(), pb.data()));
  EXPECT_EQ(pa, pb);
  EXPECT_EQ(a->history.series("train_loss"), b->history.series("train_loss"));
}

TEST(Train, KeepsTheCheckpointWithTheLowestValidationLoss) {
  auto s = test::make_synthetic_windows(120, 3, 64, 3, 7);
  TrainingSet d = to_set(s);
  d.recording.assign(120, 0);
  TrainConfig c = quick_config(5);
  c.validation = ValidationSplit::chronological;
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d), d, c);
  ASSERT_TRUE(r) << r.error().message();
  auto val = r->history.series("val_loss");
  ASSERT_EQ(val.size(), 5u);
  const std::size_t best = std::size_t(std::min_element(val.begin(), val.end()) - val.begin()) + 1;
  EXPECT_EQ(r->history.best_epoch, best);
  // The restored weights reproduce the best epoch's validation accuracy.
  test::SyntheticWindows val_part = s;
  val_part.n = 24;
  val_part.x.assign(s.x.begin() + 96 * 192, s.x.end());
  val_part.y.assign(s.y.begin() + 96, s.y.end());
  EXPECT_NEAR(accuracy(r->model, val_part), r->history.epochs[best - 1].val_accuracy, 1e-12);
}

TEST(Train, EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement) {
  auto s = test::make_synthetic_windows(120, 3, 64, 3, 8);
  TrainingSet d = to_set(s);
  std::mt19937 rng(1);
  for (int& label : d.y) label = int(rng() % 3);  // noise labels: validation loss soon rises
  TrainConfig c = quick_config(40);
  c.learning_rate = 3e-2;
  c.validation = ValidationSplit::chronological;
  c.early_stopping_patience = 2;
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d), d, c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->history.stopped_early);
  EXPECT_EQ(r->history.epochs.size(), r->history.best_epoch + 2);
}

TEST(Train, ChronologicalSplitDropsTrainingWindowsOverlappingValidation) {
  // 2 recordings x 50 windows of 64 samples every 16: 10 validation windows each; training windows
  // starting within 64 samples before the first validation window (3 of them) are dropped.
  auto s = test::make_synthetic_windows(100, 3, 64, 2, 9);
  TrainingSet d = to_set(s);
  for (std::size_t i = 0; i < 100; ++i) {
    d.recording.push_back(int(i / 50));
    d.start.push_back((i % 50) * 16);
  }
  TrainConfig c = quick_config(1);
  c.validation = ValidationSplit::chronological;
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d, 3, 64, 2), d, c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->history.val_windows, 20u);
  EXPECT_EQ(r->history.train_windows, 2u * (40u - 3u));
}

TEST(Train, SubjectSplitHoldsOutWholeSubjects) {
  auto s = test::make_synthetic_windows(90, 3, 64, 3, 10);
  TrainingSet d = to_set(s);
  for (std::size_t i = 0; i < 90; ++i) d.subject.push_back(i < 30 ? 1 : 2);  // 30 and 60 windows
  TrainConfig c = quick_config(1);
  c.validation = ValidationSplit::by_subject;
  c.validation_fraction = 0.5;
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d), d, c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->history.val_windows == 30u || r->history.val_windows == 60u);
  EXPECT_EQ(r->history.val_windows + r->history.train_windows, 90u);
  d.subject.assign(90, 1);
  EXPECT_FALSE(train_network(test::tiny_spec(ArchKind::cnn1d), d, c));  // one subject cannot be split
}

TEST(Train, HistoryCsvHasOneRowPerEpoch) {
  test::ScratchDir dir("train_history");
  auto s = test::make_synthetic_windows(60, 3, 64, 3, 11);
  TrainingSet d = to_set(s);
  TrainConfig c = quick_config(3);
  c.validation = ValidationSplit::chronological;
  c.history_csv = dir.path / "history.csv";
  c.schedule = LrSchedule::step;
  c.step_size = 1;
  c.gamma = 0.5;
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d), d, c);
  ASSERT_TRUE(r) << r.error().message();
  std::ifstream in(c.history_csv);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds");
  EXPECT_EQ(lines[1].rfind("1,", 0), 0u);
  EXPECT_EQ(r->history.series("learning_rate"), (std::vector<double>{1e-2, 5e-3, 2.5e-3}));
  EXPECT_TRUE(r->history.series("no_such_column").empty());
}

TEST(Train, ProgressBarShowsLossAccuracyAndEta) {
  auto s = test::make_synthetic_windows(48, 3, 64, 3, 12);
  TrainConfig c = quick_config(1);
  c.progress = true;
  c.progress_bar_only_on_terminal = false;  // the captured stderr is not a terminal
  testing::internal::CaptureStderr();
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d), to_set(s), c);
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(r);
  EXPECT_NE(err.find("loss"), std::string::npos);
  EXPECT_NE(err.find("acc"), std::string::npos);
  EXPECT_NE(err.find("epoch 1/1"), std::string::npos);
  EXPECT_NE(err.find("ETA"), std::string::npos);
}

// Into a log file (stderr not a terminal), one line per epoch: no redrawn bar, no carriage returns.
TEST(Train, ProgressIntoALogIsOneLinePerEpoch) {
  auto s = test::make_synthetic_windows(48, 3, 64, 3, 12);
  TrainConfig c = quick_config(2);
  c.progress = true;
  testing::internal::CaptureStderr();
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d), to_set(s), c);
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(r);
  EXPECT_EQ(err.find('\r'), std::string::npos) << err;
  EXPECT_EQ(err.find("ETA"), std::string::npos) << err;
  EXPECT_NE(err.find("epoch 1/2 loss"), std::string::npos) << err;
  EXPECT_NE(err.find("epoch 2/2 loss"), std::string::npos) << err;
}

TEST(Train, HeadOnlyFineTuningAdaptsToNewLabels) {
  auto s = test::make_synthetic_windows(180, 3, 64, 3, 13);
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d), to_set(s), quick_config());
  ASSERT_TRUE(r);
  const auto norm_before = r->model.spec().normalisation.mean;
  // A new "subject" whose classes 0 and 1 are swapped: the old model is wrong on them.
  auto swapped = s;
  for (int& y : swapped.y) y = y == 0 ? 1 : (y == 1 ? 0 : y);
  const double before = accuracy(r->model, swapped);
  TrainConfig c = quick_config(15);
  c.trainable = Trainable::head;
  auto h = fine_tune(r->model, to_set(swapped), c);
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_LT(before, 0.5);
  EXPECT_GE(accuracy(r->model, swapped), 0.9);
  EXPECT_EQ(r->model.spec().normalisation.mean, norm_before);
}

TEST(Train, BadInputsAreErrors) {
  auto s = test::make_synthetic_windows(30, 3, 64, 3, 14);
  TrainingSet d = to_set(s);
  auto spec = test::tiny_spec(ArchKind::cnn1d);
  d.y[3] = 7;
  EXPECT_EQ(train_network(spec, d, quick_config(1)).error().code, ErrorCode::invalid_argument);
  d = to_set(s);
  d.length = 32;
  EXPECT_EQ(train_network(spec, d, quick_config(1)).error().code, ErrorCode::mismatch);
  d = to_set(s);
  TrainConfig c = quick_config(1);
  c.epochs = 0;
  EXPECT_FALSE(train_network(spec, d, c));
}

TEST(TrainConfig, ParsesTheTrainTableOfTheDefaultConfig) {
  auto c = load_train_config(std::filesystem::path(MYOEXO_SOURCE_DIR) / "configs" / "cnn1d.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->epochs, 100u);
  EXPECT_EQ(c->batch_size, 64u);
  EXPECT_DOUBLE_EQ(c->learning_rate, 1e-3);
  EXPECT_EQ(c->validation, ValidationSplit::chronological);
  EXPECT_EQ(c->threads, 1);
  auto bad = parse_train_config("[train]\nschedule = \"linear\"\n", "t.toml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().line, 2u);
  EXPECT_FALSE(parse_train_config("[train]\nepochz = 3\n"));
  // Infinite settings would train to NaN weights without a word: refused.
  for (const char* text : {"[train]\nweight_decay = inf\n", "[train]\neps = inf\n", "[train]\nlearning_rate = inf\n"})
    EXPECT_FALSE(parse_train_config(text)) << text;
}

TEST(Train, TrainedCnnTorchScriptExportMatchesPython) {
  if (!test::python_torch_available()) GTEST_SKIP() << "/usr/bin/python3 with torch (python3-torch) not installed";
  test::ScratchDir dir("train_torchscript");
  auto s = test::make_synthetic_windows(96, 3, 64, 3, 15);
  auto r = train_network(test::tiny_spec(ArchKind::cnn1d), to_set(s), quick_config(2));  // real BN statistics
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->model.export_torchscript(dir.path / "m.pt"));
  test::save_npy_f32(dir.path / "in.npy", s.x, {96, 3, 64});
  ASSERT_EQ(test::run_torchscript_in_python({dir.path / "m.pt", dir.path / "in.npy", dir.path / "out.npy"}), 0);
  auto out = test::load_npy(dir.path / "out.npy");
  std::vector<double> x = s.as_double(), p(96 * 3);
  ASSERT_TRUE(r->model.predict_proba(x.data(), 96, r->model.n_inputs(), p.data()));
  ASSERT_EQ(out.size(), p.size());
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(out[i], p[i], 1e-5) << i;
  // PyTorch alone can tell how to feed it: the archive carries the model's description.
  const auto meta_path = dir.path / "meta.json";
  const std::string cmd = "/usr/bin/python3 -c \"import sys, torch\n"
                          "extra = {'myoexo.json': ''}\n"
                          "torch.jit.load(sys.argv[1], _extra_files=extra)\n"
                          "open(sys.argv[2], 'wb').write(extra['myoexo.json'])\n\" '" +
                          (dir.path / "m.pt").string() + "' '" + meta_path.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(meta_path);
  const auto meta = nlohmann::json::parse(in);
  EXPECT_EQ(meta["format"], "myoexo-torchscript");
  const auto& input = meta["network"]["input"];
  EXPECT_EQ(input["channels"].get<std::vector<std::string>>(), r->model.spec().input.channel_names);
  EXPECT_EQ(meta["network"]["classes"].get<std::vector<std::string>>(), r->model.class_names());
  EXPECT_DOUBLE_EQ(input["sample_rate_hz"].get<double>(), r->model.spec().input.sample_rate_hz);
  EXPECT_TRUE(meta["network"].contains("card"));
}

}  // namespace
}  // namespace myoexo::train
