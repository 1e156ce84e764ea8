#include "models/torch/torch_classifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "common/test_data.hpp"
#include "models/torch/spectrogram.hpp"
#include "models/torch/synthetic_windows.hpp"
#include "models/torch/torch_test_util.hpp"

namespace myoexo::models {
namespace {

const ArchKind kAllArchs[] = {ArchKind::cnn1d, ArchKind::spectrogram_cnn, ArchKind::lstm, ArchKind::cnn_lstm};

std::vector<double> probs_of(TorchClassifier& m, const std::vector<double>& x, std::size_t n) {
  std::vector<double> p(n * m.n_classes());
  Status s = m.predict_proba(x.data(), n, m.n_inputs(), p.data());
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  return p;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

TEST(TorchClassifier, EveryArchitectureGivesProbabilityRowsThatSumToOne) {
  auto data = test::make_synthetic_windows(5, 3, 64, 3, 1);
  const auto x = data.as_double();
  for (ArchKind kind : kAllArchs) {
    auto m = TorchClassifier::create(test::tiny_spec(kind), 7);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->n_inputs(), 3u * 64u);
    EXPECT_EQ(m->input_kind(), InputKind::windows);
    auto p = probs_of(*m, x, 5);
    for (std::size_t r = 0; r < 5; ++r) {
      double sum = 0;
      for (std::size_t c = 0; c < 3; ++c) {
        EXPECT_GE(p[r * 3 + c], 0.0);
        sum += p[r * 3 + c];
      }
      EXPECT_NEAR(sum, 1.0, 1e-6) << arch_kind_name(kind);
    }
  }
}

TEST(TorchClassifier, FrozenBatchOnePathMatchesTheLibTorchForward) {
  auto spec = test::tiny_spec(ArchKind::cnn1d);
  spec.arch.dense_units = {6};
  spec.normalisation.mean = {0.1, -0.2, 0.3};
  spec.normalisation.std = {1.5, 0.5, 2.0};
  auto m = TorchClassifier::create(spec, 3);
  ASSERT_TRUE(m);
  auto data = test::make_synthetic_windows(8, 3, 64, 3, 2);
  const auto x = data.as_double();
  ASSERT_TRUE(m->reserve(1));
  auto fast = probs_of(*m, x, 8);
  std::vector<double> ref(fast.size());
  ASSERT_TRUE(m->predict_proba_reference(x.data(), 8, m->n_inputs(), ref.data()));
  EXPECT_LT(max_abs_diff(fast, ref), 1e-5);
}

TEST(TorchClassifier, FrozenPathMatchesLibTorchOnTheDefaultRealTimeCnn) {
  // 4 channels x 250 samples into 16/32/64 filters: activations grow between layers (scratch sizing).
  auto spec = load_network_spec(std::filesystem::path(MYOEXO_SOURCE_DIR) / "configs" / "cnn1d.toml");
  ASSERT_TRUE(spec) << spec.error().message();
  auto m = TorchClassifier::create(*spec, 4);
  ASSERT_TRUE(m);
  auto data = test::make_synthetic_windows(3, 4, 250, 3, 8);
  const auto x = data.as_double();
  auto fast = probs_of(*m, x, 3);
  std::vector<double> ref(fast.size());
  ASSERT_TRUE(m->predict_proba_reference(x.data(), 3, m->n_inputs(), ref.data()));
  EXPECT_LT(max_abs_diff(fast, ref), 1e-5);
}

TEST(TorchClassifier, SaveLoadRoundTripGivesIdenticalOutputs) {
  test::ScratchDir dir("torch_roundtrip");
  auto data = test::make_synthetic_windows(6, 3, 64, 3, 3);
  const auto x = data.as_double();
  for (ArchKind kind : kAllArchs) {
    auto spec = test::tiny_spec(kind);
    spec.normalisation.mean = {0.5, 0.0, -1.0};
    spec.normalisation.std = {2.0, 1.0, 0.25};
    spec.notes = "round trip";
    auto m = TorchClassifier::create(spec, 11);
    ASSERT_TRUE(m);
    const auto path = dir.path / (std::string(arch_kind_name(kind)) + ".myoexo");
    ASSERT_TRUE(m->save(path));
    auto back = TorchClassifier::load(path, spec.input.channel_names);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->spec().normalisation.mean, spec.normalisation.mean);
    EXPECT_EQ(back->class_names(), spec.class_names);
    EXPECT_EQ(back->spec().notes, "round trip");
    EXPECT_EQ(probs_of(*m, x, 6), probs_of(*back, x, 6)) << arch_kind_name(kind);
  }
}

TEST(TorchClassifier, LoadingAModelMadeForOtherChannelsIsAClearMismatchError) {
  test::ScratchDir dir("torch_channels");
  auto m = TorchClassifier::create(test::tiny_spec(ArchKind::cnn1d), 1);
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->save(dir.path / "m.myoexo"));
  const std::vector<std::string> other{"RF", "BF", "VM"};
  auto r = TorchClassifier::load(dir.path / "m.myoexo", other);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::mismatch);
  EXPECT_NE(r.error().reason.find("[c0, c1, c2]"), std::string::npos) << r.error().reason;
  EXPECT_NE(r.error().reason.find("[RF, BF, VM]"), std::string::npos) << r.error().reason;
}

TEST(TorchClassifier, LoadingSomethingElseIsAnErrorNotACrash) {
  test::ScratchDir dir("torch_garbage");
  {
    std::ofstream(dir.path / "junk.myoexo") << "not a model";
  }
  auto r = TorchClassifier::load(dir.path / "junk.myoexo");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::parse);
  auto missing = TorchClassifier::load(dir.path / "absent.myoexo");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::io);
}

TEST(TorchClassifier, BadRowsAreReportedAsStatus) {
  auto m = TorchClassifier::create(test::tiny_spec(ArchKind::cnn1d), 1);
  ASSERT_TRUE(m);
  std::vector<double> x(m->n_inputs(), 0.0), p(3);
  Status wrong_cols = m->predict_proba(x.data(), 1, x.size() - 1, p.data());
  EXPECT_FALSE(wrong_cols);
  x[5] = std::nan("");
  EXPECT_FALSE(m->predict_proba(x.data(), 1, x.size(), p.data()));
}

// One output name makes a regressor (the knee angle): its raw output comes from predict_outputs, while its
// softmax over one output is always 1. No output name at all is refused.
TEST(TorchClassifier, OneOutputIsARegressorAndNoOutputIsRefused) {
  auto spec = test::tiny_spec(ArchKind::cnn1d);
  spec.class_names = {};
  EXPECT_FALSE(TorchClassifier::create(spec));
  spec.class_names = {"knee_angle"};
  auto m = TorchClassifier::create(spec, 3);
  ASSERT_TRUE(m) << m.error().message();
  auto data = test::make_synthetic_windows(4, spec.input.n_channels(), spec.input.window_length, 2, 9);
  const auto x = data.as_double();
  std::vector<double> out(4), probs(4);
  ASSERT_TRUE(m->predict_outputs(x.data(), 4, m->n_inputs(), out.data()));
  ASSERT_TRUE(m->predict_proba(x.data(), 4, m->n_inputs(), probs.data()));
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isfinite(out[i]));
    EXPECT_NEAR(probs[i], 1.0, 1e-6);
  }
  EXPECT_NE(out[0], out[1]);  // a value per window, not a constant
}

TEST(TorchClassifier, CopyIsIndependentAndPredictsTheSame) {
  auto m = TorchClassifier::create(test::tiny_spec(ArchKind::lstm), 5);
  ASSERT_TRUE(m);
  TorchClassifier copy = *m;
  auto data = test::make_synthetic_windows(4, 3, 64, 3, 9);
  EXPECT_EQ(probs_of(*m, data.as_double(), 4), probs_of(copy, data.as_double(), 4));
}

TEST(TorchClassifier, TorchScriptExportRunsInPythonWithTheSameOutputs) {
  if (!test::python_torch_available()) GTEST_SKIP() << "/usr/bin/python3 with torch (python3-torch) not installed";
  test::ScratchDir dir("torchscript");
  auto data = test::make_synthetic_windows(6, 3, 64, 3, 4);
  const auto x = data.as_double();
  std::vector<std::filesystem::path> triples;
  std::vector<std::vector<double>> expected;
  for (ArchKind kind : kAllArchs) {
    auto spec = test::tiny_spec(kind);
    spec.arch.dense_units = {5};
    spec.normalisation.mean = {0.1, 0.2, -0.3};
    spec.normalisation.std = {1.1, 0.9, 1.3};
    auto m = TorchClassifier::create(spec, 21);
    ASSERT_TRUE(m);
    const std::string name = arch_kind_name(kind);
    ASSERT_TRUE(m->export_torchscript(dir.path / (name + ".pt")));
    // Network input: raw windows, or the dB spectrogram for spectrogram_cnn.
    std::vector<float> in = data.x;
    std::vector<std::size_t> shape{6, 3, 64};
    if (kind == ArchKind::spectrogram_cnn) {
      auto t = SpectrogramTransform::create(3, 64, spec.arch.nperseg, spec.arch.noverlap, spec.arch.power_floor);
      ASSERT_TRUE(t);
      in.assign(6 * t->output_size(), 0.0f);
      for (std::size_t r = 0; r < 6; ++r) t->process(data.x.data() + r * 192, in.data() + r * t->output_size());
      shape = {6, 3, t->frames(), t->freq_bins()};
    }
    test::save_npy_f32(dir.path / (name + "_in.npy"), in, shape);
    triples.insert(triples.end(), {dir.path / (name + ".pt"), dir.path / (name + "_in.npy"), dir.path / (name + "_out.npy")});
    expected.push_back(probs_of(*m, x, 6));
  }
  ASSERT_EQ(test::run_torchscript_in_python(triples), 0);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    auto out = test::load_npy(triples[i * 3 + 2]);
    ASSERT_EQ(out.size(), expected[i].size());
    EXPECT_LT(max_abs_diff(out.data, expected[i]), 1e-5) << arch_kind_name(kAllArchs[i]);
  }
}

}  // namespace
}  // namespace myoexo::models
