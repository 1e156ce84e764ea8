// The hot calls (SosFilter::process/process_channel_major, WaveletDenoiseStream::process/process_channel_major, StreamingWindower::push, Stft::push,
// StftPlan::execute) never allocate: a counting global operator new proves it. Skipped under
// AddressSanitizer, which owns operator new.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "dsp/dsp.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define MYOEXO_COUNT_NEW 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MYOEXO_COUNT_NEW 0
#endif
#endif
#ifndef MYOEXO_COUNT_NEW
#define MYOEXO_COUNT_NEW 1
#endif

#if MYOEXO_COUNT_NEW
namespace {
std::atomic<long> g_news{0};
}
void* operator new(std::size_t n) {
  ++g_news;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace myoexo::dsp {
namespace {

TEST(NoAllocation, HotCallsDoNotAllocate) {
#if !MYOEXO_COUNT_NEW
  GTEST_SKIP() << "operator new is owned by the sanitizer runtime";
#else
  const std::size_t C = 6, n = 1000;
  std::vector<double> x(C * n), y(C * n);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.01 * double(i));
  auto design = cascade(*design_bandpass(4, 20.0, 450.0, 1000.0), *design_notch(50.0, 30.0, 1000.0)).value();
  auto filt = SosFilter::create(design, C).value();
  auto win = StreamingWindower::create(C, 200, 50).value();
  auto stft = Stft::create(StftConfig::scipy_stft(1000.0), C).value();
  auto plan = StftPlan::create(StftConfig::scipy_spectrogram(1000.0), C, n).value();
  std::vector<double> spec(plan.output_size());
  auto wavelet = WaveletDenoiseStream::create({}, C).value();
  std::size_t windows = 0, frames = 0;
  const long before = g_news.load();
  EXPECT_TRUE(wavelet.process(x, y).ok());
  EXPECT_TRUE(wavelet.process_channel_major(x, y, n).ok());
  EXPECT_TRUE(filt.process(x, y).ok());
  EXPECT_TRUE(filt.process_channel_major(x, y, n).ok());
  EXPECT_TRUE(win.push(x, [&](const WindowView&) { ++windows; }).ok());
  EXPECT_TRUE(stft.push(x, [&](const StftFrame&) { ++frames; }).ok());
  EXPECT_TRUE(plan.execute(x, spec).ok());
  EXPECT_EQ(g_news.load() - before, 0);
  EXPECT_GT(windows, 0u);
  EXPECT_GT(frames, 0u);
#endif
}

}  // namespace
}  // namespace myoexo::dsp
