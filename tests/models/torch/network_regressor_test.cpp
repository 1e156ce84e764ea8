// A one-output network as the live knee-angle estimator: outputs rescaled into degrees, the frozen batch-1 path
// against LibTorch's forward, the model file, and what it refuses.
#include "models/torch/network_regressor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "models/torch/synthetic_windows.hpp"
#include "models/torch/torch_test_util.hpp"

namespace myoexo::models {
namespace {

NetworkSpec angle_spec(std::size_t length = 120, std::size_t pool = 4) {
  NetworkSpec spec = test::tiny_spec(ArchKind::cnn1d, 4, length);
  spec.arch.pool_size = pool;
  spec.class_names = {kKneeAngleOutputName};
  return spec;
}

TEST(NetworkAngleRegressor, EstimatesAreTheNetworksOutputsRescaledIntoDegrees) {
  auto net = TorchClassifier::create(angle_spec(), 11);
  ASSERT_TRUE(net) << net.error().message();
  auto data = test::make_synthetic_windows(5, 4, 120, 2, 3);
  const auto x = data.as_double();
  std::vector<double> raw(5), scaled(5);
  ASSERT_TRUE(net->predict_outputs(x.data(), 5, net->n_inputs(), raw.data()));
  // A standardised target of mean 35 deg and spread 20 deg: estimates = 20 * output + 35.
  ASSERT_TRUE(net->scale_outputs(20.0, 35.0));
  ASSERT_TRUE(net->predict_outputs(x.data(), 5, net->n_inputs(), scaled.data()));
  for (std::size_t i = 0; i < 5; ++i) EXPECT_NEAR(scaled[i], 20.0 * raw[i] + 35.0, 1e-4) << i;
  EXPECT_FALSE(net->scale_outputs(std::numeric_limits<double>::infinity(), 0.0));

  auto reg = NetworkAngleRegressor::create(*net);
  ASSERT_TRUE(reg) << reg.error().message();
  EXPECT_EQ(reg->input_kind(), InputKind::windows);
  EXPECT_EQ(reg->window_length(), 120u);
  EXPECT_EQ(reg->n_inputs(), 4u * 120u);
  EXPECT_EQ(reg->kind_name(), "cnn1d");
  auto copy = reg->clone();
  for (std::size_t i = 0; i < 5; ++i) {
    const std::span<const double> w(x.data() + i * 480, 480);
    EXPECT_EQ(reg->estimate(w), scaled[i]);
    EXPECT_EQ(copy->estimate(w), scaled[i]);  // the clone has its own scratch and the same weights
  }
  EXPECT_NE(scaled[0], scaled[1]);
  // What it cannot use gives NaN, never an exception.
  EXPECT_TRUE(std::isnan(reg->estimate(std::span<const double>(x.data(), 479))));
  std::vector<double> bad(x.begin(), x.begin() + 480);
  bad[100] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(reg->estimate(bad)));
}

TEST(NetworkAngleRegressor, TheModelFileRoundTripsAndAClassifierIsRefused) {
  test::ScratchDir dir("knee_net");
  auto net = TorchClassifier::create(angle_spec(1000), 4);
  ASSERT_TRUE(net);
  ASSERT_TRUE(net->scale_outputs(18.5, 40.0));
  auto reg = NetworkAngleRegressor::create(*net);
  ASSERT_TRUE(reg);
  const auto file = dir.path / "knee.pt";
  ASSERT_TRUE(reg->save(file));
  const std::vector<std::string> channels = net->spec().input.channel_names;
  auto back = NetworkAngleRegressor::load(file, channels);
  ASSERT_TRUE(back) << back.error().message();
  auto data = test::make_synthetic_windows(3, 4, 1000, 2, 8);
  const auto x = data.as_double();
  for (std::size_t i = 0; i < 3; ++i) {
    const std::span<const double> w(x.data() + i * 4000, 4000);
    EXPECT_EQ(back->estimate(w), reg->estimate(w)) << i;
    EXPECT_TRUE(std::isfinite(reg->estimate(w)));
  }
  // Other channels, or a classifier file, are refused with the file named.
  const std::vector<std::string> others{"a", "b", "c", "d"};
  EXPECT_EQ(NetworkAngleRegressor::load(file, others).error().code, ErrorCode::mismatch);
  auto clf = TorchClassifier::create(test::tiny_spec(ArchKind::cnn1d, 4, 120), 2);
  ASSERT_TRUE(clf);
  ASSERT_TRUE(clf->save(dir.path / "classifier.pt"));
  auto refused = NetworkAngleRegressor::load(dir.path / "classifier.pt");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::mismatch);
  EXPECT_NE(refused.error().message().find("not a knee-angle network"), std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find("classifier.pt"), std::string::npos);
  EXPECT_EQ(NetworkAngleRegressor::create(std::move(*clf)).error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace myoexo::models
