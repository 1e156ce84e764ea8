// The live session on the wall clock: sample arrival -> command written (the whole chain: source, units, sensor
// checks, filter, windows, features, LDA, post-processing, delivery to the control thread, one loop tick) and the
// control thread's tick jitter (tick start - its absolute deadline), p50/p99/max, at 1 kHz control.
//   BM_WallClockReplay: a real-time-paced replay delivering 10-frame chunks (a read every 10 ms).
//   BM_WallClockPtyBoard: a MyoWare-like board on a pseudo-terminal (codes at mid-scale, ~41 codes/mV, wire
//     frames in bursts of 10), read by SerialSource and converted by the default board profile.
// The recording is the UCI lower-limb 1Nmar.txt when the data set is present ($MYOEXO_DATA or ../shared/datasets),
// else synthetic EMG; the model is an HTD LDA on the other gait/sitting/standing files of that subject set.
// Run: taskset -c 0,1 ./build/bench/bench_session
#include <benchmark/benchmark.h>

#include <memory>

#include "core/paths.hpp"
#include "hw/mock_exo.hpp"
#include "io/io.hpp"
#include "realtime/replay_source.hpp"
#include "realtime/serial_source.hpp"
#include "session/drivers.hpp"
#include "session/pty_board.hpp"
#include "session/session.hpp"
#include "session/session_test_util.hpp"

namespace {

using namespace myoexo;

struct Setup {
  std::shared_ptr<const session::PipelineModel> model;
  io::Recording rec;
  std::string what;
};

Setup make_setup() {
  Setup s;
  const auto root = find_dataset_root();
  const auto dir = root ? *root / "uci-lower-limb" : std::filesystem::path();
  if (root && std::filesystem::exists(dir / "N_TXT" / "1Nmar.txt")) {
    auto recs = session::load_training_recordings({dir / "A_TXT"});
    auto m = recs ? session::train_pipeline_model(*recs, session::PipelineModel{}) : Result<session::PipelineModel>(recs.error());
    auto r = io::read_recording(dir / "N_TXT" / "1Nmar.txt");
    if (m && r) {
      s.model = std::make_shared<const session::PipelineModel>(std::move(*m));
      s.rec = std::move(*r);
      s.rec.n_samples = std::min<std::size_t>(s.rec.n_samples, 5000);
      io::Recording cut = s.rec;
      cut.samples.clear();
      for (const auto& name : s.model->channels) {
        auto ch = s.rec.channel(std::size_t(s.rec.channel_index(name)));
        cut.samples.insert(cut.samples.end(), ch.begin(), ch.begin() + std::ptrdiff_t(s.rec.n_samples));
      }
      cut.channel_names = s.model->channels;
      cut.channel_units.assign(cut.channel_names.size(), "mV");
      s.rec = std::move(cut);
      s.what = "UCI 1Nmar.txt (5 s), LDA on the A subjects";
      return s;
    }
  }
  s.model = session::test::make_model();
  s.rec = session::test::make_recording("gait", 5.0, 3);
  s.what = "synthetic EMG (5 s)";
  return s;
}

void report(benchmark::State& state, const session::Session& s, const session::DriverReport& rep) {
  const auto st = s.stats();
  state.counters["arrival_to_command_p50_us"] = st.arrival_to_command.p50_s * 1e6;
  state.counters["arrival_to_command_p99_us"] = st.arrival_to_command.p99_s * 1e6;
  state.counters["arrival_to_command_max_us"] = st.arrival_to_command.max_s * 1e6;
  state.counters["tick_jitter_p50_us"] = rep.tick_jitter.p50_s * 1e6;
  state.counters["tick_jitter_p99_us"] = rep.tick_jitter.p99_s * 1e6;
  state.counters["tick_jitter_max_us"] = rep.tick_jitter.max_s * 1e6;
  state.counters["step_cpu_p99_us"] = st.step_compute.p99_s * 1e6;
  state.counters["decisions"] = double(st.decisions_delivered);
  state.counters["deadline_misses"] = double(rep.deadline_misses);
}

// Activates `s`, runs it on the wall clock (draining what a host drains), reports; false when it failed.
bool run_and_report(benchmark::State& state, session::Session& s, double duration_s) {
  (void)s.configure();
  (void)s.activate(0.0);
  session::DriverOptions o;
  o.duration_s = duration_s;
  o.service = [&] {
    session::TickTelemetry t;
    while (s.pop_telemetry(t)) {
    }
    realtime::Decision d;
    while (s.pop_decision(d)) {
    }
  };
  auto rep = session::run_wall_clock(s, o);
  (void)s.deactivate();
  if (!rep) {
    state.SkipWithError(rep.error().message().c_str());
    return false;
  }
  report(state, s, *rep);
  return true;
}

void BM_WallClockReplay(benchmark::State& state) {
  const Setup su = make_setup();
  for (auto _ : state) {
    realtime::ReplayOptions ro;
    ro.chunk_frames = 10;
    ro.pace = realtime::ReplayPace::realtime;
    auto src = std::make_unique<realtime::ReplaySource>(realtime::ReplaySource::create(su.rec, ro).value());
    session::SessionSpec spec;
    spec.clock = session::SessionClock::wall;
    spec.read_frames = 10;
    hw::MockExo exo;
    auto s = session::Session::create(spec, su.model, std::move(src), exo).value();
    if (!run_and_report(state, *s, 0.0)) return;
  }
  state.SetLabel(su.what);
}
BENCHMARK(BM_WallClockReplay)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_WallClockPtyBoard(benchmark::State& state) {
  const Setup su = make_setup();
  const auto board = realtime::default_board_profile();
  const auto codes = session::test::to_board_codes(su.rec, board);
  for (auto _ : state) {
    session::test::PtyBoard pty(codes, 1000.0);
    realtime::SerialOptions so;
    so.port = pty.port();
    so.n_channels = su.model->channels.size();
    so.channel_names = su.model->channels;
    so.backend = realtime::SerialBackend::posix;
    auto serial = realtime::SerialSource::create(so);
    if (!serial) {
      state.SkipWithError(serial.error().message().c_str());
      return;
    }
    session::SessionSpec spec;
    spec.clock = session::SessionClock::wall;
    spec.board = board;
    hw::MockExo exo;
    auto s = session::Session::create(spec, su.model, std::make_unique<realtime::SerialSource>(std::move(*serial)), exo).value();
    if (!run_and_report(state, *s, double(su.rec.n_samples) / 1000.0 + 0.2)) return;
    state.counters["sensor_fault_onsets"] = double(s->stats().sensor_fault_onsets);
  }
  state.SetLabel(su.what + ", as MyoWare codes over a pseudo-terminal");
}
BENCHMARK(BM_WallClockPtyBoard)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
