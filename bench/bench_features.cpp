// Feature extraction per window (4 channels x 250 samples, 1 kHz), single thread: HTD, TDAR, TDPSD and the
// whole registry. The NumPy peer is bench/peer_features.py (same windows: the same LCG noise).
//   build-features/bench/bench_features --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "features/features.hpp"

namespace {

constexpr std::size_t kChannels = 4;
constexpr std::size_t kWindow = 250;
constexpr std::size_t kSamples = 20000;  // windows cycle through a 20 s recording, as the live path would

std::vector<double> make_recording() {
  std::vector<double> s(kChannels * kSamples);
  std::uint64_t state = 20240601;
  for (auto& v : s) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    v = (static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5) * 0.1;  // ~ +-0.05 mV
  }
  return s;
}

void run(benchmark::State& state, std::vector<std::string> names) {
  static const std::vector<double> rec = make_recording();
  myoexo::features::FeatureSpec spec;
  spec.names = std::move(names);
  spec.sample_rate_hz = 1000.0;
  auto ex = myoexo::features::FeatureExtractor::create(spec, kChannels, kWindow);
  if (!ex) {
    state.SkipWithError(ex.error().message().c_str());
    return;
  }
  std::vector<double> row(ex->n_columns());
  std::size_t start = 0;
  for (auto _ : state) {
    auto st = ex->compute(rec.data() + start, kSamples, row.data());
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(row.data());
    start += 50;
    if (start + kWindow > kSamples) start = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));  // items = windows
  state.counters["features_per_window"] = static_cast<double>(ex->n_columns());
}

void BM_FeaturesHTD(benchmark::State& s) { run(s, {"HTD"}); }
void BM_FeaturesTDAR(benchmark::State& s) { run(s, {"TDAR"}); }
void BM_FeaturesTDPSD(benchmark::State& s) { run(s, {"TDPSD"}); }
void BM_FeaturesAll(benchmark::State& s) { run(s, {"ALL"}); }

}  // namespace

BENCHMARK(BM_FeaturesHTD);
BENCHMARK(BM_FeaturesTDAR);
BENCHMARK(BM_FeaturesTDPSD);
BENCHMARK(BM_FeaturesAll);
// main() comes from benchmark::benchmark_main (bench/CMakeLists.txt).
