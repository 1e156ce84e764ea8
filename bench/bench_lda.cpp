// LDA + HTD per window (4 channels x 250 samples, 1 kHz), single thread, batch 1: the live classifier's work
// per decision. Peer: bench/peer_lda.py (NumPy HTD + scikit-learn LinearDiscriminantAnalysis.predict_proba).
// Target: >= 20x faster than scikit-learn's 28 + 54 us.
//   build/bench/bench_lda --benchmark_min_time=1
//   /usr/bin/python3 bench/peer_lda.py
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "features/features.hpp"
#include "models/lda.hpp"

namespace {

constexpr std::size_t kChannels = 4, kWindow = 250, kHop = 50, kSamples = 20000;

/// Three classes of LCG noise with class-dependent channel gains (deterministic, no data files needed).
std::vector<double> make_class_signal(int cls, std::uint64_t seed) {
  std::vector<double> x(kChannels * kSamples);
  std::uint64_t state = seed;
  for (std::size_t c = 0; c < kChannels; ++c) {
    const double gain = (c == std::size_t(cls) ? 1.0 : 0.3) * 0.1;
    for (std::size_t i = 0; i < kSamples; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      x[c * kSamples + i] = (double(state >> 11) / 9007199254740992.0 - 0.5) * gain;
    }
  }
  return x;
}

struct Setup {
  std::vector<std::vector<double>> signals;
  myoexo::features::FeatureExtractor extractor;
  myoexo::models::LdaClassifier lda;
};

Setup& setup() {
  static Setup* s = [] {
    auto ex = myoexo::features::FeatureExtractor::create(myoexo::features::FeatureSpec{}, kChannels, kWindow);
    if (!ex) std::abort();
    std::vector<std::vector<double>> signals;
    std::vector<double> x;
    std::vector<int> y;
    std::vector<double> row(ex->n_columns());
    for (int cls = 0; cls < 3; ++cls) {
      signals.push_back(make_class_signal(cls, 20240601 + std::uint64_t(cls)));
      for (std::size_t st = 0; st + kWindow <= kSamples; st += kHop) {
        (void)ex->compute(signals.back().data() + st, kSamples, row.data());
        x.insert(x.end(), row.begin(), row.end());
        y.push_back(cls);
      }
    }
    auto lda = myoexo::models::LdaClassifier::fit(x.data(), y.size(), ex->n_columns(), y,
                                                  {"gait", "sitting", "standing"});
    if (!lda) std::abort();
    return new Setup{std::move(signals), std::move(*ex), std::move(*lda)};
  }();
  return *s;
}

void BM_HtdExtract(benchmark::State& state) {
  Setup& s = setup();
  std::vector<double> row(s.extractor.n_columns());
  std::size_t start = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.extractor.compute(s.signals[0].data() + start, kSamples, row.data()));
    benchmark::ClobberMemory();
    start = (start + kHop) % (kSamples - kWindow);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_LdaPredictProba(benchmark::State& state) {
  Setup& s = setup();
  std::vector<double> row(s.extractor.n_columns()), probs(3);
  (void)s.extractor.compute(s.signals[1].data(), kSamples, row.data());
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.lda.predict_proba(row.data(), 1, row.size(), probs.data()));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

/// The number compared with the peer's 28 + 54 us: features of one window, then its class probabilities.
void BM_HtdPlusLdaPerWindow(benchmark::State& state) {
  Setup& s = setup();
  std::vector<double> row(s.extractor.n_columns()), probs(3);
  std::size_t start = 0;
  for (auto _ : state) {
    (void)s.extractor.compute(s.signals[2].data() + start, kSamples, row.data());
    benchmark::DoNotOptimize(s.lda.predict_proba(row.data(), 1, row.size(), probs.data()));
    benchmark::ClobberMemory();
    start = (start + kHop) % (kSamples - kWindow);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_HtdExtract);
BENCHMARK(BM_LdaPredictProba);
BENCHMARK(BM_HtdPlusLdaPerWindow);

}  // namespace
