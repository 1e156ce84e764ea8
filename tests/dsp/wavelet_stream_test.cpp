// The streaming wavelet stage: its output is denoise_wavelet of each block (a zero-padded past at the start),
// delayed by hop + guard samples; any chunking and either layout give the same output; it removes white noise
// from a slow signal while it streams. Tolerances: 1e-12 absolute on signals of unit scale (same arithmetic,
// different summation order in the pyramid copy).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "dsp/wavelet.hpp"

namespace myoexo::dsp {
namespace {

std::vector<double> noisy(std::size_t n, std::size_t channels, std::uint64_t seed, double noise = 0.3) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N01;
  std::vector<double> x(n * channels);  // interleaved
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < channels; ++c)
      x[i * channels + c] = std::sin(2 * 3.141592653589793 * double(i) / (200.0 + 50.0 * double(c))) + noise * N01(rng);
  return x;
}

std::vector<double> channel_of(const std::vector<double>& interleaved, std::size_t channels, std::size_t c) {
  std::vector<double> out(interleaved.size() / channels);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = interleaved[i * channels + c];
  return out;
}

TEST(WaveletStream, OutputIsEachBlockDenoisedAndDelayedByHopPlusGuard) {
  const WaveletStreamConfig cfg{.block = 64, .hop = 8, .guard = 12, .levels = 3, .threshold_scale = 1.0};
  const std::size_t C = 2, n = 700, D = cfg.delay_samples();
  ASSERT_EQ(D, 20u);
  const auto x = noisy(n, C, 3);
  auto w = WaveletDenoiseStream::create(cfg, C).value();
  std::vector<double> y(x.size());
  ASSERT_TRUE(w.process(x, y).ok());
  for (std::size_t c = 0; c < C; ++c) {
    const auto xc = channel_of(x, C, c);
    // The hop at stream sample T (T a multiple of hop) denoises x[T - block, T) (zeros before 0) and its samples
    // [block - guard - hop, block - guard) are emitted at T .. T + hop - 1.
    for (std::size_t T = cfg.hop; T + cfg.hop <= n; T += cfg.hop) {
      std::vector<double> blk(cfg.block, 0.0);
      for (std::size_t i = 0; i < cfg.block; ++i) {
        const long long src = static_cast<long long>(T) - static_cast<long long>(cfg.block) + static_cast<long long>(i);
        if (src >= 0) blk[i] = xc[std::size_t(src)];
      }
      const auto den = denoise_wavelet(blk, {.levels = cfg.levels, .threshold_scale = 1.0}).value();
      for (std::size_t k = 0; k < cfg.hop; ++k) {
        const std::size_t t = T + k;
        ASSERT_NEAR(y[t * C + c], den[cfg.block - cfg.guard - cfg.hop + k], 1e-12) << "channel " << c << " t " << t;
      }
    }
    for (std::size_t t = 0; t < cfg.hop; ++t) EXPECT_EQ(y[t * C + c], 0.0);  // before the first block
  }
}

TEST(WaveletStream, AtThresholdZeroItIsAPureDelay) {
  const WaveletStreamConfig cfg{.block = 128, .hop = 16, .guard = 16, .levels = 4, .threshold_scale = 0.0};
  const std::size_t C = 3, n = 1000, D = cfg.delay_samples();
  const auto x = noisy(n, C, 5);
  auto w = WaveletDenoiseStream::create(cfg, C).value();
  std::vector<double> y(x.size());
  ASSERT_TRUE(w.process(x, y).ok());
  for (std::size_t t = D; t < n; ++t)
    for (std::size_t c = 0; c < C; ++c) ASSERT_NEAR(y[t * C + c], x[(t - D) * C + c], 1e-12) << t;
  for (std::size_t t = 0; t < D; ++t)
    for (std::size_t c = 0; c < C; ++c) EXPECT_NEAR(y[t * C + c], 0.0, 1e-12);
}

TEST(WaveletStream, AnyChunkingAndEitherLayoutGiveTheSameOutput) {
  const WaveletStreamConfig cfg{};
  const std::size_t C = 4, n = 1537;
  const auto x = noisy(n, C, 11);
  auto whole = WaveletDenoiseStream::create(cfg, C).value();
  std::vector<double> ref(x.size());
  ASSERT_TRUE(whole.process(x, ref).ok());
  for (std::size_t chunk : {1u, 7u, 16u, 100u, 1000u}) {
    auto w = WaveletDenoiseStream::create(cfg, C).value();
    std::vector<double> y(x.size());
    for (std::size_t f = 0; f < n; f += chunk) {
      const std::size_t m = std::min(chunk, n - f);
      std::vector<double> in(x.begin() + std::ptrdiff_t(f * C), x.begin() + std::ptrdiff_t((f + m) * C));
      ASSERT_TRUE(w.process(in, in).ok());  // in place
      std::copy(in.begin(), in.end(), y.begin() + std::ptrdiff_t(f * C));
    }
    ASSERT_EQ(y, ref) << "chunk " << chunk;
  }
  // Channel-major, in two uneven calls.
  std::vector<double> cm(x.size());
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t i = 0; i < n; ++i) cm[c * n + i] = x[i * C + c];
  auto w = WaveletDenoiseStream::create(cfg, C).value();
  const std::size_t first = 333;
  std::vector<double> a(C * first), b(C * (n - first));
  for (std::size_t c = 0; c < C; ++c) {
    std::copy_n(cm.begin() + std::ptrdiff_t(c * n), first, a.begin() + std::ptrdiff_t(c * first));
    std::copy_n(cm.begin() + std::ptrdiff_t(c * n + first), n - first, b.begin() + std::ptrdiff_t(c * (n - first)));
  }
  ASSERT_TRUE(w.process_channel_major(a, a, first).ok());
  ASSERT_TRUE(w.process_channel_major(b, b, n - first).ok());
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t i = 0; i < n; ++i) {
      const double v = i < first ? a[c * first + i] : b[c * (n - first) + i - first];
      ASSERT_EQ(v, ref[i * C + c]) << "channel " << c << " sample " << i;
    }
  // reset() starts over.
  w.reset();
  std::vector<double> again(x.size());
  ASSERT_TRUE(w.process(x, again).ok());
  EXPECT_EQ(again, ref);
}

TEST(WaveletStream, RemovesWhiteNoiseFromASlowSignalWhileStreaming) {
  const WaveletStreamConfig cfg{};
  const std::size_t n = 8000, D = cfg.delay_samples();
  std::mt19937_64 rng(7);
  std::normal_distribution<double> N01;
  std::vector<double> clean(n), x(n);
  for (std::size_t i = 0; i < n; ++i) {
    clean[i] = std::sin(2 * 3.141592653589793 * double(i) / 256.0);
    x[i] = clean[i] + 0.3 * N01(rng);
  }
  auto w = WaveletDenoiseStream::create(cfg, 1).value();
  std::vector<double> y(n);
  ASSERT_TRUE(w.process(x, y).ok());
  double e_in = 0.0, e_out = 0.0;
  for (std::size_t t = cfg.block + D; t < n; ++t) {
    e_in += (x[t - D] - clean[t - D]) * (x[t - D] - clean[t - D]);
    e_out += (y[t] - clean[t - D]) * (y[t] - clean[t - D]);
  }
  RecordProperty("noise_power_ratio", std::to_string(e_out / e_in));
  EXPECT_LT(e_out, 0.2 * e_in);  // measured 0.08
}

TEST(WaveletStream, BadSettingsAreErrorsNamingTheField) {
  auto err = [](WaveletStreamConfig c, std::size_t ch = 1) {
    auto w = WaveletDenoiseStream::create(c, ch);
    return w ? std::string() : w.error().message();
  };
  EXPECT_NE(err({.block = 100, .hop = 16, .guard = 16, .levels = 4}).find("multiple of 2^levels"), std::string::npos);
  EXPECT_NE(err({.block = 128, .hop = 0, .guard = 16, .levels = 4}).find("hop"), std::string::npos);
  EXPECT_NE(err({.block = 128, .hop = 100, .guard = 40, .levels = 4}).find("hop + guard"), std::string::npos);
  EXPECT_NE(err({.block = 32, .hop = 8, .guard = 8, .levels = 4}).find("levels"), std::string::npos);
  EXPECT_NE(err({.block = 128, .hop = 16, .guard = 16, .levels = 0}).find("levels"), std::string::npos);
  EXPECT_NE(err({.block = 128, .hop = 16, .guard = 16, .levels = 4, .threshold_scale = -1}).find("threshold"),
            std::string::npos);
  EXPECT_NE(err({}, 0).find("channels"), std::string::npos);
  auto w = WaveletDenoiseStream::create({}, 2).value();
  std::vector<double> odd(3), out(3);
  EXPECT_FALSE(w.process(odd, out).ok());
  std::vector<double> four(4), two(2);
  EXPECT_FALSE(w.process_channel_major(four, two, 2).ok());
}

}  // namespace
}  // namespace myoexo::dsp
