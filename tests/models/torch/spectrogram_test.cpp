#include "models/torch/spectrogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/test_data.hpp"

namespace myoexo::models {
namespace {

TEST(SpectrogramTransform, MatchesTheNumpyReferenceInDb) {
  for (const char* name : {"a", "b"}) {
    const auto dir = test::fixture_dir();
    const auto in_path = dir / (std::string("torch_spec_") + name + "_input.npy");
    if (!std::filesystem::exists(in_path))
      GTEST_SKIP() << "fixture " << in_path << " missing: add \"torch\" to scripts/make_fixtures.py STAGES";
    auto x = test::load_npy(in_path);
    auto ref = test::load_npy(dir / (std::string("torch_spec_") + name + "_db.npy"));
    auto params = test::load_npy(dir / (std::string("torch_spec_") + name + "_params.npy"));
    const std::size_t channels = x.shape[0], length = x.shape[1];
    auto t = SpectrogramTransform::create(channels, length, std::size_t(params[0]), std::size_t(params[1]), 1e-12);
    ASSERT_TRUE(t) << t.error().message();
    ASSERT_EQ(t->output_size(), ref.size());
    ASSERT_EQ(t->frames(), ref.shape[1]);
    ASSERT_EQ(t->freq_bins(), ref.shape[2]);
    std::vector<float> in(x.data.begin(), x.data.end()), out(t->output_size());
    t->process(in.data(), out.data());
    double worst = 0.0;
    for (std::size_t i = 0; i < out.size(); ++i) worst = std::max(worst, std::abs(double(out[i]) - ref[i]));
    EXPECT_LT(worst, 1e-4) << "dB error for fixture " << name;  // float32 output of values up to ~+-100 dB
  }
}

TEST(SpectrogramTransform, SilentInputIsClampedAtTheFloor) {
  auto t = SpectrogramTransform::create(1, 32, 16, 8, 1e-10);
  ASSERT_TRUE(t);
  std::vector<float> in(32, 0.0f), out(t->output_size());
  t->process(in.data(), out.data());
  for (float v : out) EXPECT_FLOAT_EQ(v, -100.0f);
}

TEST(SpectrogramTransform, CopiesComputeTheSameImage) {
  auto t = SpectrogramTransform::create(2, 40, 16, 4, 1e-12);
  ASSERT_TRUE(t);
  SpectrogramTransform copy = *t;
  std::vector<float> in(80), a(t->output_size()), b(t->output_size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = float(std::sin(0.3 * double(i)));
  t->process(in.data(), a.data());
  copy.process(in.data(), b.data());
  EXPECT_EQ(a, b);
}

TEST(SpectrogramTransform, RejectsBadGeometry) {
  EXPECT_FALSE(SpectrogramTransform::create(1, 10, 16, 8, 1e-12));  // nperseg > window
  EXPECT_FALSE(SpectrogramTransform::create(1, 64, 16, 16, 1e-12)); // no hop
  EXPECT_FALSE(SpectrogramTransform::create(0, 64, 16, 8, 1e-12));
  EXPECT_FALSE(SpectrogramTransform::create(1, 64, 16, 8, 0.0));
}

}  // namespace
}  // namespace myoexo::models
