// dsp benchmarks (single thread). bench/compare_scipy.py runs the same work through SciPy and prints ratios.
// Counters: ns_per_ch_sample = time per channel-sample; ms_per_call for STFT/wavelet cases.
#include <benchmark/benchmark.h>

#include <complex>
#include <random>
#include <vector>

#include "dsp/dsp.hpp"

namespace {

using namespace myoexo::dsp;

constexpr std::size_t kChannels = 16;
constexpr std::size_t kSamples = 1000000;
constexpr double kFs = 1000.0;

const std::vector<double>& signal_16x1e6() {
  static const std::vector<double> x = [] {
    std::vector<double> v(kChannels * kSamples);
    std::mt19937_64 rng(1);
    std::normal_distribution<double> n01;
    for (auto& s : v) s = n01(rng);
    return v;
  }();
  return x;
}

// A batch of 16-channel x 4000-sample windows of white noise, made once per process.
const std::vector<double>& windows_16x4000(std::size_t batch) {
  static std::vector<double> x;
  if (x.size() != batch * kChannels * 4000) {
    x.resize(batch * kChannels * 4000);
    std::mt19937_64 rng(2);
    std::normal_distribution<double> n01;
    for (auto& v : x) v = n01(rng);
  }
  return x;
}

SosDesign bandpass4() { return design_bandpass(4, 20.0, 450.0, kFs).value(); }

// Causal 4th-order band-pass (4 sections), 16 channels x 1e6 samples, interleaved frames.
void BM_SosfiltBandpass4_16ch_interleaved(benchmark::State& state) {
  const auto& x = signal_16x1e6();
  std::vector<double> y(x.size());
  auto f = SosFilter::create(bandpass4(), kChannels).value();
  for (auto _ : state) {
    f.reset();
    benchmark::DoNotOptimize(f.process(x, y));
    benchmark::ClobberMemory();
  }
  state.counters["ns_per_ch_sample"] = benchmark::Counter(
      static_cast<double>(kChannels * kSamples), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SosfiltBandpass4_16ch_interleaved)->Unit(benchmark::kMillisecond)->UseRealTime();

// Same work on channel-major data (a Recording's layout): block transposes through the filter's scratch.
void BM_SosfiltBandpass4_16ch_channel_major(benchmark::State& state) {
  const auto& x = signal_16x1e6();
  std::vector<double> y(x.size());
  auto f = SosFilter::create(bandpass4(), kChannels).value();
  for (auto _ : state) {
    f.reset();
    benchmark::DoNotOptimize(f.process_channel_major(x, y, kSamples));
    benchmark::ClobberMemory();
  }
  state.counters["ns_per_ch_sample"] = benchmark::Counter(
      static_cast<double>(kChannels * kSamples), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SosfiltBandpass4_16ch_channel_major)->Unit(benchmark::kMillisecond)->UseRealTime();

// Zero-phase band-pass (SciPy's default odd padding), channel-major in and out.
void BM_SosfiltfiltBandpass4_16ch(benchmark::State& state) {
  const auto& x = signal_16x1e6();
  std::vector<double> y(x.size());
  const SosDesign d = bandpass4();
  for (auto _ : state) {
    benchmark::DoNotOptimize(sosfiltfilt(d, x, kChannels, y));
    benchmark::ClobberMemory();
  }
  state.counters["ns_per_ch_sample"] = benchmark::Counter(
      static_cast<double>(kChannels * kSamples), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SosfiltfiltBandpass4_16ch)->Unit(benchmark::kMillisecond)->UseRealTime();

// STFT (scipy.signal.stft defaults: Hann, 256/128, boundary zeros, padded, complex) of a batch of
// 16-channel x 4000-sample windows with one plan; time reported per window (s_per_window).
void BM_StftBatch_16x4000(benchmark::State& state) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0)), n = 4000;
  const auto& x = windows_16x4000(batch);
  auto plan = StftPlan::create(StftConfig::scipy_stft(kFs), kChannels, n).value();
  std::vector<std::complex<double>> out(batch * plan.output_size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(plan.execute_batch(x, out));
    benchmark::ClobberMemory();
  }
  state.counters["s_per_window"] = benchmark::Counter(
      static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_StftBatch_16x4000)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

// Spectrogram (density, constant detrend, power) of the same batch.
void BM_SpectrogramBatch_16x4000(benchmark::State& state) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0)), n = 4000;
  const auto& x = windows_16x4000(batch);
  auto plan = StftPlan::create(StftConfig::scipy_spectrogram(kFs), kChannels, n).value();
  std::vector<double> out(batch * plan.output_size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(plan.execute_batch(x, out));
    benchmark::ClobberMemory();
  }
  state.counters["s_per_window"] = benchmark::Counter(
      static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SpectrogramBatch_16x4000)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

// Wavelet denoising (db4, periodization, universal soft threshold) of one 4000-sample channel.
void BM_WaveletDenoise_4000(benchmark::State& state) {
  std::vector<double> x(4000);
  std::mt19937_64 rng(4);
  std::normal_distribution<double> n01;
  for (auto& v : x) v = n01(rng);
  for (auto _ : state) benchmark::DoNotOptimize(denoise_wavelet(x));
}
BENCHMARK(BM_WaveletDenoise_4000)->Unit(benchmark::kMicrosecond);

}  // namespace
