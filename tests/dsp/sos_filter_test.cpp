// SosFilter (causal) and sosfiltfilt (zero-phase) vs scipy.signal.sosfilt / sosfiltfilt, on a real
// recording (first 5000 complete rows of UCI lower-limb 1Nmar.txt, 4 EMG channels) and synthetic signals.
//
// Tolerance: max |ours - scipy| <= 1e-9 * max |scipy| per channel (relative to the signal scale).
// Chunking: outputs for random chunkings (1-sample chunks included) must be BIT-identical to one call.
#include "dsp/sos_filter.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "dsp/dsp_test_util.hpp"

namespace myoexo::dsp {
namespace {

using test::fixture;
using test::has_fixture;

constexpr double kFs = 1000.0;

SosDesign named_design(const std::string& name) {
  if (name == "bp4") return design_bandpass(4, 20.0, 450.0, kFs).value();
  if (name == "lp3") return design_lowpass(3, 30.0, kFs).value();
  if (name == "hp2") return design_highpass(2, 10.0, kFs).value();
  if (name == "bs2") return design_bandstop(2, 45.0, 55.0, kFs).value();
  return cascade(design_bandpass(4, 20.0, 450.0, kFs).value(), design_notch(50.0, 30.0, kFs).value()).value();
}
const char* kDesigns[] = {"bp4", "lp3", "hp2", "bs2", "bp4notch"};

// Channel-major [C x n] -> interleaved [n x C] and back.
std::vector<double> interleave(const std::vector<double>& cm, std::size_t C) {
  const std::size_t n = cm.size() / C;
  std::vector<double> out(cm.size());
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t i = 0; i < n; ++i) out[i * C + c] = cm[c * n + i];
  return out;
}
std::vector<double> deinterleave(const std::vector<double>& il, std::size_t C) {
  const std::size_t n = il.size() / C;
  std::vector<double> out(il.size());
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t i = 0; i < n; ++i) out[c * n + i] = il[i * C + c];
  return out;
}

// Worst over channels of max|a - b| / max|b| (channel-major).
double worst_channel_error(const std::vector<double>& a, const std::vector<double>& b, std::size_t C) {
  const std::size_t n = b.size() / C;
  double worst = 0.0;
  for (std::size_t c = 0; c < C; ++c) {
    double diff = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      diff = std::max(diff, std::abs(a[c * n + i] - b[c * n + i]));
      scale = std::max(scale, std::abs(b[c * n + i]));
    }
    worst = std::max(worst, diff / std::max(scale, 1e-300));
  }
  return worst;
}

void check_signal(const std::string& sig) {
  auto x = fixture(sig + "_x");
  const std::size_t C = x.shape[0], n = x.shape[1];
  for (const char* dname : kDesigns) {
    SCOPED_TRACE(sig + " " + dname);
    const SosDesign d = named_design(dname);
    // Causal, interleaved path.
    auto f = SosFilter::create(d, C);
    ASSERT_TRUE(f.ok());
    auto in = interleave(x.data, C);
    std::vector<double> out(in.size());
    ASSERT_TRUE(f->process(in, out).ok());
    auto ref = fixture(sig + "_sosfilt_" + dname);
    const double e1 = worst_channel_error(deinterleave(out, C), ref.data, C);
    EXPECT_LT(e1, 1e-9);
    testing::Test::RecordProperty(sig + "_sosfilt_" + dname + "_rel_err", test::fmt_err(e1));
    // Channel-major path: bit-identical to the interleaved one.
    auto g = SosFilter::create(d, C);
    std::vector<double> out_cm(x.size());
    ASSERT_TRUE(g->process_channel_major(x.data, out_cm, n).ok());
    EXPECT_EQ(deinterleave(out, C), out_cm);
    // Zero-phase.
    std::vector<double> zp(x.size());
    ASSERT_TRUE(sosfiltfilt(d, x.data, C, zp).ok());
    const double e2 = worst_channel_error(zp, fixture(sig + "_sosfiltfilt_" + dname).data, C);
    EXPECT_LT(e2, 1e-9);
    testing::Test::RecordProperty(sig + "_sosfiltfilt_" + dname + "_rel_err", test::fmt_err(e2));
  }
}

TEST(SosFilter, MatchesScipySosfiltAndSosfiltfiltOnSyntheticSignals) {
  if (!has_fixture("synth_x")) GTEST_SKIP() << "fixtures missing (run scripts/make_fixtures.py)";
  check_signal("synth");
}

TEST(SosFilter, MatchesScipyOnRealUciRecording) {
  auto root = myoexo::test::data_root();
  if (!root || !has_fixture("uci_x")) GTEST_SKIP() << "UCI lower-limb data or its fixtures absent";
  // The fixture's input is the same rows this local parser reads from the real file.
  auto x = fixture("uci_x");
  auto mine = test::read_uci_emg(*root / "uci-lower-limb" / "N_TXT" / "1Nmar.txt", x.shape[1]);
  ASSERT_EQ(mine, x.data) << "C++ and Python read different rows";
  check_signal("uci");
}

TEST(SosFilter, AnyChunkingIsBitIdentical) {
  const std::size_t C = 5, n = 3001;  // 5 channels: a full SIMD group plus a partial one on AVX/SSE
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> N01;
  std::vector<double> x(n * C);
  for (auto& v : x) v = N01(rng);
  const SosDesign d = named_design("bp4notch");  // 5 sections: exercises the multi-pass kernel
  auto one = SosFilter::create(d, C).value();
  std::vector<double> ref(x.size());
  ASSERT_TRUE(one.process(x, ref).ok());
  for (int trial = 0; trial < 6; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial) + " seed 12345");
    auto f = SosFilter::create(d, C).value();
    std::vector<double> out(x.size());
    std::uniform_int_distribution<std::size_t> len(0, trial == 0 ? 1 : 700);
    for (std::size_t i = 0; i < n;) {
      std::size_t k = std::min(n - i, trial == 0 ? 1 : len(rng));  // trial 0: 1-sample chunks
      ASSERT_TRUE(f.process(std::span(x).subspan(i * C, k * C), std::span(out).subspan(i * C, k * C)).ok());
      i += k;
    }
    EXPECT_EQ(0, std::memcmp(out.data(), ref.data(), out.size() * sizeof(double)));
  }
  // Channel-major in chunks (with a stride) gives the same bits.
  auto cm = deinterleave(x, C);
  std::vector<double> out_cm(cm.size());
  auto f = SosFilter::create(d, C).value();
  for (std::size_t i = 0; i < n;) {
    std::size_t k = std::min<std::size_t>(n - i, 1 + (i * 7919) % 301);
    ASSERT_TRUE(f.process_channel_major(std::span(cm).subspan(i), std::span(out_cm).subspan(i), k, n).ok());
    i += k;
  }
  EXPECT_EQ(out_cm, deinterleave(ref, C));
}

TEST(SosFilter, InPlaceEqualsOutOfPlace) {
  const std::size_t C = 16, n = 700;
  std::vector<double> x(n * C);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.001 * double(i * i % 9973));
  auto a = SosFilter::create(named_design("bp4"), C).value();
  auto b = a;
  std::vector<double> out(x.size());
  ASSERT_TRUE(a.process(x, out).ok());
  ASSERT_TRUE(b.process(x, x).ok());
  EXPECT_EQ(out, x);
}

TEST(SosFilter, CopyClonesStateAndResetZeroesIt) {
  const std::size_t C = 3;
  std::vector<double> x(600 * C);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.37 * double(i)) + 0.1 * double(i % 7);
  auto f = SosFilter::create(named_design("hp2"), C).value();
  std::vector<double> out(300 * C), out2(300 * C);
  ASSERT_TRUE(f.process(std::span(x).first(300 * C), out).ok());
  SosFilter copy = f;  // same state from here on
  ASSERT_TRUE(f.process(std::span(x).last(300 * C), out).ok());
  ASSERT_TRUE(copy.process(std::span(x).last(300 * C), out2).ok());
  EXPECT_EQ(out, out2);
  copy.reset();
  auto fresh = SosFilter::create(named_design("hp2"), C).value();
  ASSERT_TRUE(copy.process(std::span(x).first(300 * C), out).ok());
  ASSERT_TRUE(fresh.process(std::span(x).first(300 * C), out2).ok());
  EXPECT_EQ(out, out2);
}

TEST(SosFilter, SteadyStateStartHasNoTransientOnAConstant) {
  auto f = SosFilter::create(named_design("lp3"), 2).value();
  const double x0[2] = {3.5, -1.25};
  ASSERT_TRUE(f.set_steady_state(x0).ok());
  std::vector<double> in(200 * 2), out(in.size());
  for (std::size_t i = 0; i < 200; ++i) {
    in[2 * i] = x0[0];
    in[2 * i + 1] = x0[1];
  }
  ASSERT_TRUE(f.process(in, out).ok());
  for (std::size_t i = 0; i < 200; ++i) {
    EXPECT_NEAR(out[2 * i], 3.5, 1e-12);  // DC gain 1 for a low-pass
    EXPECT_NEAR(out[2 * i + 1], -1.25, 1e-12);
  }
  auto zi = f.state(0);
  EXPECT_EQ(zi.size(), 4u);
  ASSERT_TRUE(f.set_state(1, zi).ok());
  EXPECT_EQ(f.state(1), zi);
}

TEST(SosFilter, BadSizesAndDesignsAreErrors) {
  EXPECT_FALSE(SosFilter::create(named_design("bp4"), 0).ok());
  EXPECT_FALSE(SosFilter::create(SosDesign{}, 2).ok());
  SosDesign bad = named_design("bp4");
  bad.sections[0][3] = 0.0;
  EXPECT_FALSE(SosFilter::create(bad, 2).ok());
  bad.sections[0][3] = std::nan("");
  EXPECT_FALSE(SosFilter::create(bad, 2).ok());
  auto f = SosFilter::create(named_design("bp4"), 4).value();
  std::vector<double> in(10), out(10);
  auto s = f.process(in, out);  // 10 is not a multiple of 4
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::mismatch);
  EXPECT_FALSE(f.process(std::span(in).first(8), std::span(out).first(4)).ok());  // in/out sizes differ
  EXPECT_FALSE(f.process_channel_major(in, out, 3).ok());  // 4 x 3 = 12 > 10
  EXPECT_FALSE(f.set_steady_state(std::vector<double>(3)).ok());
}

TEST(Sosfiltfilt, ShorterThanPaddingIsAClearError) {
  const SosDesign d = named_design("bp4");  // 4 sections -> padlen 27
  EXPECT_EQ(sosfiltfilt_padlen(d), 27u);
  EXPECT_EQ(sosfiltfilt_padlen(named_design("lp3")), 12u);  // odd order: one zero at the origin
  std::vector<double> x(27 * 2), y(27 * 2);
  auto s = sosfiltfilt(d, x, 2, y);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(s.error().reason.find("padlen 27"), std::string::npos) << s.error().reason;
  std::vector<double> x2(28 * 2, 1.0), y2(28 * 2);
  EXPECT_TRUE(sosfiltfilt(d, x2, 2, y2).ok());
  EXPECT_FALSE(sosfiltfilt(d, x2, 3, y2).ok());  // 56 values is not 3 channels
}

}  // namespace
}  // namespace myoexo::dsp
