// Networks inside the protocols (eval/network_protocol.hpp): windows -> tensors with causal context that never
// crosses a segment origin, parallel folds equal to sequential ones, and the calibration protocol's bookkeeping.
#include "eval/network_protocol.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "io/recording.hpp"
#include "eval/synthetic_recordings.hpp"

namespace myoexo::eval {
namespace {

/// 4 EMG-like channels + a knee angle; the active channel and its amplitude depend on the class.
io::Recording make_recording(const std::string& subject, const std::string& label, std::size_t n, unsigned seed) {
  return synthetic::make_recording(subject, label, n, seed, 0.1);
}

std::vector<io::Recording> make_corpus(std::size_t n) {
  std::vector<io::Recording> recs;
  unsigned seed = 1;
  for (const char* s : {"1A", "2A", "3N"})
    for (const char* l : {"gait", "sitting", "standing"}) recs.push_back(make_recording(s, l, n, seed++));
  return recs;
}

models::NetworkSpec tiny_cnn() {
  models::NetworkSpec s;
  s.arch.kind = models::ArchKind::cnn1d;
  s.arch.filters = {4, 8};
  s.arch.kernel_size = 5;
  s.arch.pool_size = 4;
  return s;
}

train::TrainConfig quick_config() {
  train::TrainConfig c;
  c.epochs = 2;
  c.batch_size = 32;
  c.validation = train::ValidationSplit::none;
  c.threads = 1;
  c.seed = 7;
  return c;
}

// A network as a knee-angle regressor: one output trained with the squared error learns an angle that the EMG
// amplitude carries, far better than guessing the mean angle.
TEST(NetworkProtocol, ANetworkRegressorLearnsTheKneeAngle) {
  std::vector<io::Recording> recs;
  unsigned seed = 1;
  for (const char* s : {"1A", "2N"})
    for (const char* l : {"gait", "sitting", "standing"})
      recs.push_back(synthetic::make_angle_recording(s, l, 8000, seed, false, 0.4 * seed)), ++seed;
  AngleSpec spec;
  spec.data.exclude_files.clear();
  auto data = prepare_angle_data(recs, spec);
  ASSERT_TRUE(data) << data.error().message();
  train::TrainConfig c = quick_config();
  c.epochs = 15;
  c.learning_rate = 3e-3;
  AngleRunOptions o;
  o.protocols = {Protocol::within_subject};
  o.per_movement = false;
  const models::NetworkSpec arch = network_spec_for(data->emg, spec.data, tiny_cnn());
  auto r = run_angle_protocol(*data, spec, make_network_regress(arch, c), o);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->protocols.size(), 1u);
  // Guessing the training mean scores R^2 <= 0 and an RMSE near the angle's spread (~22 deg).
  EXPECT_GT(r->protocols[0].worst_r2, 0.6);
  EXPECT_LT(r->protocols[0].mean_rmse_deg, 12.0);
}

TEST(NetworkProtocol, ContextIsZeroBeforeTheSegmentOriginAndRealAfterIt) {
  auto recs = make_corpus(2000);
  DataSpec spec = uci_ll_v1_spec();
  spec.filter_order = 0;  // raw samples, so the copies can be compared with the recording
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data) << data.error().reason;
  WindowSet set;
  set.data = &*data;
  set.length = 250;
  // A test window right at a split point s = 1400 (origin 1400) and one 300 samples later.
  set.windows.push_back({0, 1400, 0, 0, 1400});
  set.windows.push_back({0, 1700, 0, 0, 1400});
  set.windows.push_back({0, 100, 0, 0, 0});  // before the recording start: zeros too
  const std::vector<std::size_t> idx{0, 1, 2};
  const std::size_t context = 750, total = context + 250;
  auto ts = make_training_set(set, idx, context);
  ASSERT_EQ(ts.length, total);
  ASSERT_EQ(ts.X.size(), 3 * 4 * total);
  const auto& rec = data->recordings[0];
  for (std::size_t c = 0; c < 4; ++c) {
    const float* w0 = ts.X.data() + (0 * 4 + c) * total;
    for (std::size_t k = 0; k < context; ++k) EXPECT_EQ(w0[k], 0.0f) << "window at the origin, context sample " << k;
    for (std::size_t k = 0; k < 250; ++k) EXPECT_EQ(w0[context + k], float(rec.samples[c * rec.n_samples + 1400 + k]));
    const float* w1 = ts.X.data() + (1 * 4 + c) * total;
    // Starts at 1700 - 750 = 950 < origin 1400: 450 zeros, then samples from 1400 on.
    for (std::size_t k = 0; k < 450; ++k) EXPECT_EQ(w1[k], 0.0f);
    for (std::size_t k = 450; k < total; ++k) EXPECT_EQ(w1[k], float(rec.samples[c * rec.n_samples + 1400 + (k - 450)]));
    const float* w2 = ts.X.data() + (2 * 4 + c) * total;
    for (std::size_t k = 0; k < 650; ++k) EXPECT_EQ(w2[k], 0.0f);
    for (std::size_t k = 650; k < total; ++k) EXPECT_EQ(w2[k], float(rec.samples[c * rec.n_samples + (k - 650)]));
  }
  EXPECT_EQ(ts.y, (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(ts.start, (std::vector<std::size_t>{1400, 1700, 100}));
}

TEST(NetworkProtocol, ParallelFoldsGiveTheSameScoresAsSequentialOnes) {
  auto recs = make_corpus(3000);
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data) << data.error().reason;
  const auto net = network_spec_for(*data, spec, tiny_cnn());
  train::TrainConfig cfg = quick_config();
  cfg.epochs = 8;
  RunOptions run;
  run.protocols = {Protocol::leave_one_subject_out};
  auto seq = run_protocol(*data, spec, make_network_fit_predict(net, cfg), run);
  ASSERT_TRUE(seq) << seq.error().reason;
  run.parallel_folds = 2;
  auto par = run_protocol(*data, spec, make_network_fit_predict(net, cfg), run);
  ASSERT_TRUE(par) << par.error().reason;
  const auto& a = seq->protocols[0].folds;
  const auto& b = par->protocols[0].folds;
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (std::size_t f = 0; f < 3; ++f) {
    EXPECT_EQ(a[f].name, b[f].name);
    EXPECT_EQ(a[f].metrics.confusion, b[f].metrics.confusion) << "fold " << a[f].name;
  }
  // The classes are separable by which channel is active: a few epochs learn it (chance = 1/3).
  EXPECT_GT(seq->protocols[0].mean_accuracy, 0.9);
}

TEST(NetworkProtocol, TrainedCallbackSeesEveryFoldWithItsHistory) {
  auto recs = make_corpus(3000);
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data);
  NetworkFitOptions o;
  std::vector<std::string> seen;
  o.on_trained = [&](const FoldContext& f, const train::TrainHistory& h, const models::TorchClassifier& m) {
    seen.push_back(f.name);
    EXPECT_EQ(h.epochs.size(), 2u);
    EXPECT_EQ(m.spec().input.channel_names, (std::vector<std::string>{"RF", "BF", "VM", "ST"}));
    EXPECT_EQ(m.spec().normalisation.mean.size(), 4u);
  };
  RunOptions run;
  run.protocols = {Protocol::within_subject};
  run.parallel_folds = 2;
  auto r = run_protocol(*data, spec, make_network_fit_predict(network_spec_for(*data, spec, tiny_cnn()), quick_config(), o), run);
  ASSERT_TRUE(r) << r.error().reason;
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"1A", "2A", "3N"}));
}

TEST(NetworkProtocol, CalibrationScoresEveryCellOnTheSameTestWindows) {
  auto recs = make_corpus(8000);
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data);
  CalibrationOptions o;
  o.seconds = {2, 5};
  o.subjects = {"1A"};
  o.base = quick_config();
  o.fine_tune = quick_config();
  auto r = run_calibration(*data, spec, tiny_cnn(), o);
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->cells.size(), 1u + 2u * 2u);  // baseline + 2 durations x 2 modes
  // Test windows lie after 5 s: (8000 - 5000 - 250) / 50 + 1 = 56 per recording, 3 recordings.
  for (const auto& c : r->cells) {
    EXPECT_EQ(c.subject, "1A");
    EXPECT_EQ(c.n_test, 3u * 56u);
    EXPECT_GE(c.accuracy, 0.0);
    EXPECT_LE(c.accuracy, 1.0);
  }
  // Calibration windows lie inside the first N s: (2000 - 250) / 50 + 1 = 36 per recording.
  EXPECT_EQ(r->cells[1].n_calibration, 3u * 36u);
  EXPECT_EQ(r->cells[3].n_calibration, 3u * 96u);
  EXPECT_FALSE(std::isnan(r->mean_accuracy(2, "head")));
  const auto j = calibration_to_json(*r);
  EXPECT_EQ(j["mean"]["full"].size(), 2u);
  EXPECT_NE(calibration_table_markdown(*r).find("| 5 |"), std::string::npos);
}

TEST(NetworkProtocol, CalibrationRefusesBadDurationsAndUnknownSubjects) {
  auto recs = make_corpus(3000);
  const DataSpec spec = uci_ll_v1_spec();
  auto data = prepare_data(recs, spec);
  ASSERT_TRUE(data);
  CalibrationOptions o;
  o.seconds = {-1};
  EXPECT_EQ(run_calibration(*data, spec, tiny_cnn(), o).error().code, ErrorCode::invalid_argument);
  o.seconds = {2};
  o.subjects = {"99Z"};
  EXPECT_EQ(run_calibration(*data, spec, tiny_cnn(), o).error().code, ErrorCode::invalid_argument);
  o.subjects = {"1A"};
  o.seconds = {2.9};  // leaves no test window after 2.9 s in 3 s recordings
  o.base = quick_config();
  EXPECT_EQ(run_calibration(*data, spec, tiny_cnn(), o).error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace myoexo::eval
