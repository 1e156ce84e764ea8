// The session's real-time contract with each LibTorch network behind the pipeline: allocations per decision in
// pump() + step() after configure(), activate() and a warm-up. CNN1d runs a frozen copy (BatchNorm folded, Eigen
// GEMM into preallocated buffers) and allocates nothing. LSTM, CNN-LSTM and the spectrogram CNN run LibTorch's
// own operators under InferenceMode, which allocate their intermediate tensors on every forward: that number is
// measured here, bounded (so a regression shows), and documented in the README's real-time section. Its own
// executable: it replaces the global allocation functions with counting versions.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "hw/mock_exo.hpp"
#include "models/torch/torch_classifier.hpp"
#include "realtime/replay_source.hpp"
#include "session/session.hpp"
#include "session/session_test_util.hpp"

#include "session/alloc_counter.hpp"

namespace myoexo::session {
namespace {

// An untrained network of the live geometry (4 channels x 250 samples every 50, 20-450 Hz causal) as a model.
std::shared_ptr<const PipelineModel> network_model(models::ArchKind kind) {
  models::NetworkSpec ns;
  ns.input.channel_names = {"RF", "BF", "VM", "ST"};
  ns.input.window_length = 250;
  ns.input.window_increment = 50;
  ns.arch.kind = kind;
  ns.arch.filters = {8, 16};
  ns.arch.hidden_size = 32;
  ns.arch.nperseg = 64;   // the spectrogram CNN: 64-sample segments fit the 250-sample window
  ns.arch.noverlap = 32;
  ns.class_names = {"gait", "rest"};
  auto net = models::TorchClassifier::create(ns, 5);
  if (!net) return nullptr;
  auto m = std::make_shared<PipelineModel>();
  m->channels = ns.input.channel_names;
  m->window_len = 250;
  m->increment = 50;
  m->network_arch = models::arch_kind_name(kind);
  m->network = std::make_shared<models::TorchClassifier>(std::move(*net));
  return m;
}

struct Measured {
  std::size_t allocations = 0;
  std::size_t decisions = 0;
};

// 2 s of warm-up, then 5 s counted: every pump() and step() of a stream-clock replay.
Measured measure(models::ArchKind kind) {
  auto model = network_model(kind);
  EXPECT_TRUE(model);
  if (!model) return {};
  realtime::ReplayOptions ro;
  ro.chunk_frames = 10;
  ro.channels = {"RF", "BF", "VM", "ST"};
  auto src = std::make_unique<realtime::ReplaySource>(
      realtime::ReplaySource::create(test::make_recording("gait", 8.0, 9), ro).value());
  hw::MockExo exo(hw::MockExoSpec{});
  SessionSpec spec;
  spec.post.rejection_threshold = 0.0;  // untrained: accept whatever it says, so the vote path runs too
  auto s = Session::create(spec, model, std::move(src), exo).value();
  EXPECT_TRUE(s->configure().ok());
  EXPECT_TRUE(s->activate(0.0).ok());
  const double dt = s->control_period_s();
  std::uint64_t k = 0;
  double avail = 0;
  TickTelemetry t;
  realtime::Decision d;
  auto run_until = [&](double until) {
    while (double(k) * dt < until) {
      while (avail < double(k) * dt) {
        const auto p = s->pump();
        if (p.status != realtime::ReadStatus::ok) return;
        avail = p.stream_end_s;
      }
      s->step(double(k) * dt, dt);
      while (s->pop_telemetry(t)) {
      }
      while (s->pop_decision(d)) {
      }
      ++k;
    }
  };
  run_until(2.0);
  const std::size_t before = s->stats().pipeline.decisions;
  Measured m;
  m.allocations = myoexo::test::allocations_during([&] { run_until(7.0); });
  m.decisions = s->stats().pipeline.decisions - before;
  EXPECT_EQ(s->stats().pipeline.classifier_errors, 0u);
  return m;
}

void report(const char* name, const Measured& m) {
  const double per = m.decisions ? double(m.allocations) / double(m.decisions) : 0.0;
  std::printf("%-16s %6zu decisions, %8zu allocations, %.1f per decision\n", name, m.decisions, m.allocations, per);
  ::testing::Test::RecordProperty(std::string(name) + "_allocations_per_decision", std::to_string(per));
}

TEST(SessionAllocationNetworks, Cnn1dDecidesWithoutAllocating) {
  const Measured m = measure(models::ArchKind::cnn1d);
  report("cnn1d", m);
  EXPECT_EQ(m.decisions, 100u);  // 5 s at one decision per 50 samples
  EXPECT_EQ(m.allocations, 0u);
}

// LibTorch's operators allocate per forward. Measured here (LibTorch 1.13, Debian): lstm 727, cnn_lstm 1790,
// spectrogram_cnn 1059 per decision (the README's table); bounded at about twice that so a regression shows.
TEST(SessionAllocationNetworks, LibTorchNetworksAllocateABoundedAmountPerDecision) {
  struct Case {
    const char* name;
    models::ArchKind kind;
    double max_per_decision;
  };
  for (const Case& c : {Case{"lstm", models::ArchKind::lstm, 1500.0}, Case{"cnn_lstm", models::ArchKind::cnn_lstm, 3600.0},
                        Case{"spectrogram_cnn", models::ArchKind::spectrogram_cnn, 2100.0}}) {
    const Measured m = measure(c.kind);
    report(c.name, m);
    EXPECT_EQ(m.decisions, 100u) << c.name;
    EXPECT_LE(double(m.allocations) / double(std::max<std::size_t>(m.decisions, 1)), c.max_per_decision) << c.name;
  }
}

}  // namespace
}  // namespace myoexo::session
