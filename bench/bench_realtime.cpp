// realtime benchmarks (single processing thread): per-decision compute of the streaming pipeline
// (causal band-pass -> streaming windower -> HTD features -> LDA -> rejection/vote/dwell). The live latency through
// the whole session (arrival -> command, control-tick jitter) is bench_session's.
//
// Each iteration of the compute benchmarks feeds exactly one increment of frames, which completes exactly
// one window, so the time per iteration is the full per-decision cost; p50/p99/max come from the
// pipeline's own histogram (compute_time()), reported as counters in microseconds.
//
// BM_DecisionComputeLdaContext: the same with the lda_context rows (window block + a block over the window
// and 750 past samples, log amplitudes).
//
// With LibTorch (MYOEXO_HAVE_TORCH), BM_DecisionComputeTorch does the same through a network built from a
// config's [input]/[model] tables with untrained weights (the cost does not depend on their values), batch
// 1, one LibTorch thread: configs/cnn1d.toml (4 ch x 250 samples every 50, the frozen CNN1d path) and the
// seed's configs/paper.toml (16 ch x 4000 samples every 500, a spectrogram CNN through LibTorch).
// Pin it to one core for the table: taskset -c 1 ./build/bench/bench_realtime --benchmark_filter=Decision
#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include "models/lda.hpp"
#include "models/gradient_boosting.hpp"
#include "models/ridge.hpp"
#include "models/tree_ensemble.hpp"
#include "realtime/realtime.hpp"
#ifdef MYOEXO_HAVE_TORCH
#include <ATen/Parallel.h>

#include "models/torch/network_regressor.hpp"
#include "models/torch/network_spec.hpp"
#include "models/torch/torch_classifier.hpp"
#endif

namespace {

using namespace myoexo;
using namespace myoexo::realtime;

constexpr double kFs = 1000.0;

/// Channel-major noise alternating between a quiet "rest" and a loud "gait" class every second.
io::Recording synthetic(std::size_t channels, double seconds) {
  io::Recording rec;
  rec.sample_rate_hz = kFs;
  rec.n_samples = static_cast<std::size_t>(seconds * kFs);
  for (std::size_t c = 0; c < channels; ++c) rec.channel_names.push_back("ch" + std::to_string(c));
  rec.channel_units.assign(channels, "mV");
  rec.samples.resize(channels * rec.n_samples);
  rec.sample_labels.resize(rec.n_samples);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> n01;
  for (std::size_t i = 0; i < rec.n_samples; ++i) {
    const int label = (i / 1000) % 2;
    rec.sample_labels[i] = label;
    for (std::size_t c = 0; c < channels; ++c) rec.samples[c * rec.n_samples + i] = (label ? 0.3 : 0.03) * n01(rng);
  }
  return rec;
}

PipelineSpec spec_for(std::size_t channels, std::size_t len, std::size_t inc) {
  PipelineSpec s;
  s.sample_rate_hz = kFs;
  s.n_channels = channels;
  s.filter = dsp::design_bandpass(4, 20.0, 450.0, kFs).value();
  s.window_len = len;
  s.increment = inc;
  s.features.names = {"HTD"};  // MAV WL ZC SSC per channel
  return s;
}

std::unique_ptr<models::LdaClassifier> train(const io::Recording& rec, const PipelineSpec& s) {
  auto fm = features::extract_features(rec, s.features, s.window_len, s.increment).value();
  std::vector<int> y;
  for (std::size_t st : fm.window_starts) y.push_back(rec.sample_labels[st + s.window_len - 1]);
  return std::make_unique<models::LdaClassifier>(
      models::LdaClassifier::fit(fm.values.data(), fm.n_rows(), fm.n_cols(), y, {"rest", "gait"}).value());
}

std::vector<double> interleave(const io::Recording& rec) {
  const std::size_t nch = rec.n_channels();
  std::vector<double> x(nch * rec.n_samples);
  for (std::size_t i = 0; i < rec.n_samples; ++i)
    for (std::size_t c = 0; c < nch; ++c) x[i * nch + c] = rec.samples[c * rec.n_samples + i];
  return x;
}

void report(benchmark::State& state, const StreamingPipeline& p) {
  const auto s = p.compute_time().summary();
  state.counters["p50_us"] = s.p50_s * 1e6;
  state.counters["p99_us"] = s.p99_s * 1e6;
  state.counters["max_us"] = s.max_s * 1e6;
  state.counters["decisions"] = static_cast<double>(s.count);
}

/// The timed loop of the Decision benchmarks: `warm` frames first, then one increment per iteration (one decision
/// each), wrapping to `warm` at the end of the recording. Skips with an error unless every increment decided.
template <class Recording>
void time_decisions(benchmark::State& state, StreamingPipeline& p, const Recording& rec, std::size_t nch,
                    std::size_t warm, std::size_t inc) {
  const auto x = interleave(rec);
  (void)p.process(std::span<const double>(x).subspan(0, warm * nch), ChunkTiming{0.0, steady_now_ns()});
  std::size_t pos = warm;
  std::size_t decisions = 0;
  for (auto _ : state) {
    if (pos + inc > rec.n_samples) pos = warm;  // wrap (the filter sees a jump; timing is unaffected)
    const auto r = p.process(std::span<const double>(x).subspan(pos * nch, inc * nch),
                             ChunkTiming{static_cast<double>(pos) / kFs, steady_now_ns()});
    decisions += r.value();
    pos += inc;
  }
  if (decisions != static_cast<std::size_t>(state.iterations())) state.SkipWithError("not one decision per increment");
  report(state, p);
}

/// args: channels, window length, increment (samples at 1 kHz).
void BM_DecisionCompute(benchmark::State& state) {
  const auto nch = static_cast<std::size_t>(state.range(0));
  const auto len = static_cast<std::size_t>(state.range(1));
  const auto inc = static_cast<std::size_t>(state.range(2));
  const auto spec = spec_for(nch, len, inc);
  const auto rec = synthetic(nch, 60.0);
  auto p = StreamingPipeline::create(spec, train(rec, spec)).value();
  // Warm-up: fill the first window.
  time_decisions(state, p, rec, nch, len, inc);
}
BENCHMARK(BM_DecisionCompute)
    ->ArgNames({"ch", "len", "inc"})
    ->Args({4, 250, 50})     // the real-time target: 250 ms / 50 ms windows, 4 channels
    ->Args({16, 4000, 500})  // the seed's window: 4000 samples x 16 channels, 500-sample increment
    ->Unit(benchmark::kMicrosecond);

/// The lda_context variant (`myoexo evaluate --model lda_context`, `myoexo run` with a context model): log
/// amplitudes, MAV WL ZC SSC RMS AR1-4 over the window plus the same over the window and `ctx` past samples.
/// args: channels, window length, increment, context (samples at 1 kHz), knee-angle regressor (0 none, 1 ridge,
/// 2 the cnn1d_context network, 3 trees). Same loop as
/// BM_DecisionCompute.
void BM_DecisionComputeLdaContext(benchmark::State& state) {
  const auto nch = static_cast<std::size_t>(state.range(0));
  const auto len = static_cast<std::size_t>(state.range(1));
  const auto inc = static_cast<std::size_t>(state.range(2));
  const auto ctx = static_cast<std::size_t>(state.range(3));
  auto spec = spec_for(nch, len, inc);
  spec.features.names = {"MAV", "WL", "ZC", "SSC", "RMS", "AR"};
  spec.context_samples = ctx;
  spec.log_amplitude_features = true;
  const auto rec = synthetic(nch, 60.0);
  // Training rows from the same definition the pipeline streams.
  auto cfx = features::ContextFeatureExtractor::create(spec.features, nch, len, inc, ctx, true).value();
  std::vector<double> rows, row(cfx.n_columns());
  std::vector<int> y;
  for (std::size_t st : dsp::window_starts(rec.n_samples, len, inc)) {
    features::ComputeStatus status{};
    if (!cfx.compute(rec.samples.data() + st, rec.n_samples, st, row.data(), status)) continue;
    rows.insert(rows.end(), row.begin(), row.end());
    y.push_back(rec.sample_labels[st + len - 1]);
  }
  auto lda = std::make_unique<models::LdaClassifier>(
      models::LdaClassifier::fit(rows.data(), y.size(), row.size(), y, {"rest", "gait"}).value());
  if (state.range(4) == 2) {
#ifdef MYOEXO_HAVE_TORCH
    // Proportional mode with a knee-angle network: configs/cnn1d_context.toml's CNN (1000-sample windows = the
    // window + the 750 past samples the context keeps, pool 4) with one output; untrained (timing only).
    auto ns = models::load_network_spec(std::filesystem::path(MYOEXO_CONFIG_DIR) / "cnn1d_context.toml");
    if (!ns) {
      state.SkipWithError(ns.error().message().c_str());
      return;
    }
    ns->class_names = {models::kKneeAngleOutputName};
    at::set_num_threads(1);
    auto knee = models::NetworkAngleRegressor::create(models::TorchClassifier::create(*ns, 1).value()).value();
    spec.knee_angle = std::make_shared<const models::NetworkAngleRegressor>(std::move(knee));
#else
    state.SkipWithError("built without LibTorch");
    return;
#endif
  } else if (state.range(4) == 3) {
    // Proportional mode with knee-angle trees: XGBoost's 300 trees of depth 4 (the defaults) on the lagged envelope
    // of the window + its 750 past samples, trained on this signal against a smooth target (timing only).
    const models::LaggedEnvelope env;
    std::vector<float> x, t;
    std::vector<double> w(nch * env.window_length());
    std::vector<float> f(env.n_features(nch));
    for (std::size_t st = env.window_length(); st + 1 < rec.n_samples; st += inc) {
      for (std::size_t c = 0; c < nch; ++c)
        std::copy_n(rec.samples.data() + c * rec.n_samples + st - env.window_length(), env.window_length(),
                    w.data() + c * env.window_length());
      env.compute(w.data(), nch, f.data());
      x.insert(x.end(), f.begin(), f.end());
      t.push_back(float(40.0 + 30.0 * std::sin(0.001 * double(st))));
    }
    auto trees = models::fit_gradient_boosting(x, t.size(), f.size(), t);
    if (!trees) {
      state.SkipWithError(trees.error().message().c_str());
      return;
    }
    spec.knee_angle = std::make_shared<const models::EnvelopeTreeRegressor>(
        models::EnvelopeTreeRegressor::create(env, nch, std::move(*trees)).value());
  } else if (state.range(4) != 0) {
    // Proportional mode: a knee-angle ridge on the same row (targets: any smooth function of the rows will do
    // for timing; the estimate is one clipped dot product).
    std::vector<double> t(y.size());
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = 40.0 + 30.0 * std::sin(0.01 * double(i));
    spec.knee_angle = std::make_shared<const models::RidgeRegressor>(
        models::RidgeRegressor::fit(rows.data(), y.size(), row.size(), t, {}, {.alpha = 100.0, .clip_to_training_range = true})
            .value());
  }
  auto p = StreamingPipeline::create(spec, std::move(lda)).value();
  // Warm-up: past the clipped contexts, so every timed decision reads the full window + ctx samples.
  time_decisions(state, p, rec, nch, len + ctx, inc);
}
BENCHMARK(BM_DecisionComputeLdaContext)
    ->ArgNames({"ch", "len", "inc", "ctx", "knee"})
    ->Args({4, 250, 50, 0, 0})    // log-amplitude MAV WL ZC SSC RMS AR over the window only
    ->Args({4, 250, 50, 750, 0})  // + the context block: the declared lda_context variant
    ->Args({4, 250, 50, 750, 1})  // + the knee-angle estimate from the same row (proportional mode)
    ->Args({4, 250, 50, 750, 2})  // + the knee-angle network on the window and its 750 past samples
    ->Args({4, 250, 50, 750, 3})  // + the knee-angle trees on the envelope of the window and its 750 past samples
    ->Unit(benchmark::kMicrosecond);

#ifdef MYOEXO_HAVE_TORCH
/// arg 0: configs/cnn1d.toml, 1: configs/paper.toml. Same loop as BM_DecisionCompute (one increment per
/// iteration = one decision), the classifier a TorchClassifier on raw filtered windows.
void BM_DecisionComputeTorch(benchmark::State& state) {
  const char* config = state.range(0) == 0 ? "cnn1d.toml" : "paper.toml";
  auto ns = models::load_network_spec(std::filesystem::path(MYOEXO_CONFIG_DIR) / config);
  if (!ns) {
    state.SkipWithError(ns.error().message().c_str());
    return;
  }
  if (ns->class_names.empty()) ns->class_names = {"rest", "gait"};
  at::set_num_threads(1);  // one core, as the real-time budget assumes
  auto net = models::TorchClassifier::create(*ns, 1);
  if (!net) {
    state.SkipWithError(net.error().message().c_str());
    return;
  }
  const auto& in = ns->input;
  const std::size_t nch = in.n_channels(), len = in.window_length, inc = in.window_increment;
  PipelineSpec spec;
  spec.sample_rate_hz = in.sample_rate_hz;
  spec.n_channels = nch;
  spec.filter = dsp::design_bandpass(in.filter.order, in.filter.low_hz, in.filter.high_hz, in.sample_rate_hz).value();
  spec.window_len = len;
  spec.increment = inc;
  spec.post.rejection_threshold = 0.0;  // untrained: every decision takes the same (full) path
  const std::vector<std::pair<std::string, std::string>> aliases{{"standing", "lift"}, {"sitting", "lower"}};
  spec.class_intents = map_classes_to_intents(ns->class_names, aliases).value();
  auto p = StreamingPipeline::create(spec, std::make_unique<models::TorchClassifier>(std::move(*net))).value();
  const auto rec = synthetic(nch, std::max(60.0, 40.0 * static_cast<double>(len) / kFs));
  const auto x = interleave(rec);
  (void)p.process(std::span<const double>(x).subspan(0, len * nch), ChunkTiming{0.0, steady_now_ns()});
  std::size_t pos = len;
  std::size_t decisions = 0;
  for (auto _ : state) {
    if (pos + inc > rec.n_samples) pos = len;
    const auto r = p.process(std::span<const double>(x).subspan(pos * nch, inc * nch),
                             ChunkTiming{static_cast<double>(pos) / kFs, steady_now_ns()});
    decisions += r.value();
    pos += inc;
  }
  if (decisions != static_cast<std::size_t>(state.iterations())) state.SkipWithError("not one decision per increment");
  if (p.stats().classifier_errors != 0) state.SkipWithError("classifier errors");
  report(state, p);
  state.SetLabel(std::string(config) + " " + models::arch_kind_name(ns->arch.kind) + " " + std::to_string(nch) +
                 "ch x " + std::to_string(len));
}
BENCHMARK(BM_DecisionComputeTorch)->ArgName("paper")->Arg(0)->MinTime(2.0)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecisionComputeTorch)->ArgName("paper")->Arg(1)->Iterations(200)->Unit(benchmark::kMicrosecond);
#endif

}  // namespace
