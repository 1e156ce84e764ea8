// The embeddable session: what a person at the exoskeleton would notice (supervisor mode, torque, decisions,
// the safety log on disk), on input shaped like a real board's (codes at mid-scale over a pseudo-terminal).
#include "session/session.hpp"

#include <cmath>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "hw/mock_exo.hpp"
#include "realtime/replay_source.hpp"
#include "realtime/serial_source.hpp"
#include "realtime/wire_protocol.hpp"
#include "session/drivers.hpp"
#include "session/pty_board.hpp"
#include "session/session_test_util.hpp"

namespace myoexo::session {
namespace {

namespace fs = std::filesystem;
using control::SupervisorMode;

std::unique_ptr<realtime::EmgSource> replay_of(io::Recording rec, realtime::ReplayPace pace = realtime::ReplayPace::fast,
                                               std::size_t chunk = 10) {
  realtime::ReplayOptions ro;
  ro.chunk_frames = chunk;
  ro.pace = pace;
  ro.channels = {"RF", "BF", "VM", "ST"};
  return std::make_unique<realtime::ReplaySource>(realtime::ReplaySource::create(std::move(rec), ro).value());
}

fs::path temp_path(const std::string& name) {
  return fs::path(::testing::TempDir()) / ("myoexo_session_" + std::to_string(::getpid()) + "_" + name);
}

struct HostLog {
  std::vector<TickTelemetry> ticks;
  std::vector<realtime::Decision> decisions;
};

// Drives `s` with `driver`, draining telemetry and decisions as a host does.
template <typename Driver>
HostLog drive(Session& s, Driver driver, double duration_s = 0.0) {
  HostLog out;
  DriverOptions o;
  o.duration_s = duration_s;
  o.service = [&] {
    TickTelemetry t;
    while (s.pop_telemetry(t)) out.ticks.push_back(t);
    realtime::Decision d;
    while (s.pop_decision(d)) out.decisions.push_back(d);
    (void)s.flush_events();
  };
  EXPECT_TRUE(s.configure().ok());
  EXPECT_TRUE(s.activate(0.0).ok());
  auto rep = driver(s, o);
  EXPECT_TRUE(rep.ok()) << rep.error().message();
  EXPECT_TRUE(s.deactivate().ok());
  o.service();
  return out;
}

TEST(Session, ReplayInStreamTimeDecidesAndMovesTheLeg) {
  auto model = test::make_model();
  ASSERT_TRUE(model);
  hw::MockExo exo;
  auto s = Session::create({}, model, replay_of(test::make_recording("gait", 6.0, 7)), exo);
  ASSERT_TRUE(s) << s.error().message();
  const HostLog r = drive(**s, run_stream_clock);
  ASSERT_GT(r.decisions.size(), 100u);
  std::size_t gait = 0, normal = 0;
  for (const auto& d : r.decisions) gait += d.intent.label == control::IntentLabel::gait;
  for (const auto& t : r.ticks) normal += t.mode == SupervisorMode::normal;
  EXPECT_GT(gait, r.decisions.size() / 4);  // the bursts are decoded as gait
  EXPECT_GT(normal, r.ticks.size() / 2);    // and the supervisor lets the leg move
  EXPECT_EQ((*s)->stats().decisions_dropped, 0u);
  EXPECT_EQ((*s)->stats().telemetry_dropped, 0u);
  EXPECT_EQ((*s)->conversion().description, "mV (the model's unit)");
}

// Proportional mode: a person flexing the knee while standing (classified as lift) is followed by the knee; the same
// replay without it runs the canned lift trajectory. What the therapist sees: the knee moving with the person,
// inside the limits, in normal mode.
TEST(Session, ProportionalModeMakesTheKneeFollowThePersonDuringLift) {
  auto model = test::make_angle_model();
  ASSERT_TRUE(model);
  const io::Recording rec = test::make_angle_recording(16.0, 11);
  auto knee_rmse = [&](bool proportional, double& following, std::size_t& outside) {
    hw::MockExo exo;
    SessionSpec spec;
    spec.loop.proportional.enabled = proportional;
    auto s = Session::create(spec, model, replay_of(rec), exo);
    EXPECT_TRUE(s) << s.error().message();
    const HostLog r = drive(**s, run_stream_clock);
    const auto limits = control::default_joint_limits();
    double se = 0;
    std::size_t n = 0, follow = 0;
    outside = 0;
    for (const auto& t : r.ticks) {
      follow += t.following ? 1 : 0;
      if (t.setpoint[1] < limits[1].position_min_rad - 1e-9 || t.setpoint[1] > limits[1].position_max_rad + 1e-9) ++outside;
      EXPECT_TRUE(std::isfinite(t.knee_estimate_deg) || t.t_s < 0.3);
      if (t.t_s < 4.0) continue;  // lift decided and the follower caught up
      const double e = control::rad_to_deg(t.setpoint[1]) - test::knee_angle_at(t.t_s, 11);
      se += e * e;
      ++n;
    }
    following = r.ticks.empty() ? 0.0 : double(follow) / double(r.ticks.size());
    return std::sqrt(se / double(std::max<std::size_t>(n, 1)));
  };
  double follow_on = 0, follow_off = 0;
  std::size_t out_on = 0, out_off = 0;
  const double on = knee_rmse(true, follow_on, out_on);
  const double off = knee_rmse(false, follow_off, out_off);
  EXPECT_GT(follow_on, 0.5);
  EXPECT_EQ(follow_off, 0.0);
  EXPECT_EQ(out_on, 0u);
  EXPECT_EQ(out_off, 0u);
  // The person swings 10-70 deg; the canned lift holds 60 deg.
  EXPECT_LT(on, 10.0) << "knee set-point vs the person's knee, proportional";
  EXPECT_GT(off, 2.0 * on) << "knee set-point vs the person's knee, trajectory only";

  // Asking for proportional mode with a model that cannot estimate the angle is an error, not a silent no-op.
  hw::MockExo exo;
  SessionSpec spec;
  spec.loop.proportional.enabled = true;
  auto refused = Session::create(spec, test::make_model(), replay_of(test::make_recording("gait", 2.0, 7)), exo);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("knee-angle regressor"), std::string::npos);
}

TEST(Session, EmergencyStopRequestCutsTorqueOnTheNextTickAndLatchesUntilReset) {
  auto model = test::make_model();
  hw::MockExo exo;
  auto s = Session::create({}, model, replay_of(test::make_recording("gait", 6.0, 7)), exo).value();
  ASSERT_TRUE(s->configure().ok());
  ASSERT_TRUE(s->activate(0.0).ok());
  const double dt = s->control_period_s();
  double avail = 0;
  std::uint64_t k = 0;
  TickTelemetry t;
  auto tick_until = [&](double until) {
    while (double(k) * dt < until) {
      while (avail < double(k) * dt) {
        auto p = s->pump();
        ASSERT_EQ(p.status, realtime::ReadStatus::ok);
        avail = p.stream_end_s;
      }
      s->step(double(k) * dt, dt);
      ++k;
    }
  };
  tick_until(2.5);
  TickTelemetry last;
  while (s->pop_telemetry(t)) last = t;
  ASSERT_EQ(last.mode, SupervisorMode::normal);
  ASSERT_GT(std::abs(last.tau[0]) + std::abs(last.tau[1]), 0.0);
  std::thread([&] { s->request_emergency_stop(); }).join();  // from another thread, as a console would
  tick_until(2.5 + dt);
  ASSERT_TRUE(s->pop_telemetry(t));
  EXPECT_EQ(t.mode, SupervisorMode::emergency_stop);
  EXPECT_EQ(t.tau[0], 0.0);
  EXPECT_EQ(t.tau[1], 0.0);
  EXPECT_EQ(exo.last_command().mode, control::CommandMode::passive);
  tick_until(4.0);  // fresh gait decisions keep coming: the stop stays latched
  while (s->pop_telemetry(t)) ASSERT_EQ(t.mode, SupervisorMode::emergency_stop) << "t = " << t.t_s;
  EXPECT_TRUE(s->stop_latched());
  s->request_reset();
  tick_until(4.0 + dt);
  ASSERT_TRUE(s->pop_telemetry(t));
  EXPECT_EQ(t.mode, SupervisorMode::hold);  // reset: holds until a fresh intent, never jumps back into motion
  EXPECT_FALSE(s->stop_latched());
  EXPECT_EQ(s->stats().estop_requests, 1u);
  EXPECT_EQ(s->stats().resets_refused, 0u);
  // A stop and a reset asked for within one control period (two operators, a late control thread): the stop wins.
  s->request_reset();
  s->request_emergency_stop();
  tick_until(4.0 + 2 * dt);
  EXPECT_TRUE(s->stop_latched());
  EXPECT_EQ(s->stats().resets_refused, 1u);
  // Deactivating and activating again is not a reset: still stopped, passive, whatever decisions arrive.
  ASSERT_TRUE(s->deactivate().ok());
  ASSERT_TRUE(s->activate(0.0).ok());
  k = 0;
  avail = 0;
  while (s->pop_telemetry(t)) {
  }
  tick_until(1.0);
  EXPECT_TRUE(s->stop_latched());
  std::size_t n = 0;
  while (s->pop_telemetry(t)) {
    ASSERT_EQ(t.mode, SupervisorMode::emergency_stop) << "t = " << t.t_s;
    ASSERT_EQ(t.tau[0], 0.0);
    ++n;
  }
  EXPECT_GT(n, 900u);
}

TEST(Session, HardwareFaultLatchesAndAResetIsRefusedWhileTheDeviceStillFails) {
  auto model = test::make_model();
  hw::MockExoSpec ms;
  ms.fail_read_at = 1500;  // the device fails 1.5 s in and stays failed
  hw::MockExo exo(ms);
  auto s = Session::create({}, model, replay_of(test::make_recording("gait", 5.0, 7)), exo).value();
  ASSERT_TRUE(s->configure().ok());
  ASSERT_TRUE(s->activate(0.0).ok());
  const double dt = s->control_period_s();
  double avail = 0;
  std::vector<TickTelemetry> ticks;
  for (std::uint64_t k = 0; k < 4000; ++k) {
    while (avail < double(k) * dt) avail = s->pump().stream_end_s;
    if (k == 3000) s->request_reset();
    s->step(double(k) * dt, dt);
    TickTelemetry t;
    while (s->pop_telemetry(t)) ticks.push_back(t);
  }
  ASSERT_EQ(ticks.size(), 4000u);
  EXPECT_EQ(ticks[1400].mode, SupervisorMode::normal);
  for (std::size_t k = 1499; k < ticks.size(); ++k) {
    ASSERT_EQ(ticks[k].mode, SupervisorMode::emergency_stop) << "tick " << k;
    ASSERT_EQ(ticks[k].tau[0], 0.0);
    ASSERT_EQ(ticks[k].tau[1], 0.0);
  }
  EXPECT_EQ(s->stats().resets_refused, 1u);
  std::size_t logged = 0;
  for (const auto& e : s->loop().supervisor().events()) logged += e.reason == control::SafetyReason::hardware_fault;
  EXPECT_EQ(logged, 1u);  // one latch, one event, however many failed reads
}

// A source whose device has its own e-stop switch, pressed from stream time `press_s` to `release_s`.
class SwitchedSource final : public realtime::EmgSource {
 public:
  SwitchedSource(std::unique_ptr<realtime::EmgSource> inner, double press_s, double release_s)
      : inner_(std::move(inner)), press_s_(press_s), release_s_(release_s) {}
  std::size_t n_channels() const noexcept override { return inner_->n_channels(); }
  double sample_rate_hz() const noexcept override { return inner_->sample_rate_hz(); }
  const std::vector<std::string>& channel_names() const noexcept override { return inner_->channel_names(); }
  const std::vector<std::string>& channel_units() const noexcept override { return inner_->channel_units(); }
  Status start() override { return inner_->start(); }
  void stop() noexcept override { inner_->stop(); }
  realtime::ReadResult read(std::span<double> out) noexcept override {
    const realtime::ReadResult r = inner_->read(out);
    if (r.status == realtime::ReadStatus::ok) {
      const double t = r.first_sample_s + double(r.frames) / sample_rate_hz();
      pressed_ = t > press_s_ && t <= release_s_;
    }
    return r;
  }
  bool device_estop() const noexcept override { return pressed_; }

 private:
  std::unique_ptr<realtime::EmgSource> inner_;
  double press_s_, release_s_;
  bool pressed_ = false;
};

TEST(Session, TheBoardsEstopSwitchLatchesAndAResetIsRefusedWhileItIsPressed) {
  auto model = test::make_model();
  hw::MockExo exo;
  auto src = std::make_unique<SwitchedSource>(replay_of(test::make_recording("gait", 6.0, 7)), 1.5, 3.0);
  auto s = Session::create({}, model, std::move(src), exo).value();
  ASSERT_TRUE(s->configure().ok());
  ASSERT_TRUE(s->activate(0.0).ok());
  const double dt = s->control_period_s();
  double avail = 0;
  std::vector<TickTelemetry> ticks;
  for (std::uint64_t k = 0; k < 5000; ++k) {
    while (avail < double(k) * dt) avail = s->pump().stream_end_s;
    if (k == 2500) s->request_reset();  // still pressed: refused
    if (k == 4000) s->request_reset();  // released at 3 s: accepted
    s->step(double(k) * dt, dt);
    TickTelemetry t;
    while (s->pop_telemetry(t)) ticks.push_back(t);
  }
  ASSERT_EQ(ticks.size(), 5000u);
  EXPECT_EQ(ticks[1400].mode, SupervisorMode::normal);
  // Pressed at stream time 1.5 s (the read that ends past it, chunks of 10 frames): latched within 10 ms + a tick.
  std::size_t first = 0;
  while (first < ticks.size() && ticks[first].mode != SupervisorMode::emergency_stop) ++first;
  EXPECT_GE(first, 1500u);
  EXPECT_LE(first, 1511u);
  for (std::size_t k = first; k < 4000; ++k) {
    ASSERT_EQ(ticks[k].mode, SupervisorMode::emergency_stop) << "tick " << k << ": latched until the reset";
    ASSERT_EQ(ticks[k].tau[0], 0.0);
  }
  EXPECT_NE(ticks[4001].mode, SupervisorMode::emergency_stop) << "the reset after the release is accepted";
  EXPECT_EQ(s->stats().device_estops, 1u);
  EXPECT_EQ(s->stats().resets_refused, 1u);
  // The latency from reading the press's frame to the latch is measured (this test drives both threads' work
  // from one thread, so it is the time between one pump and the next step: small, not zero-length by contract).
  EXPECT_TRUE(std::isfinite(s->stats().device_estop_latency_ms));
  EXPECT_GE(s->stats().device_estop_latency_ms, 0.0);
}

TEST(Session, StreamAndWallClockDriversGiveTheSameDecisions) {
  auto model = test::make_model();
  const auto rec = test::make_recording("gait", 3.0, 11);
  hw::MockExo a, b;
  auto fast = Session::create({}, model, replay_of(rec), a).value();
  const HostLog rf = drive(*fast, run_stream_clock);
  SessionSpec ws;
  ws.clock = SessionClock::wall;
  auto live = Session::create(ws, model, replay_of(rec, realtime::ReplayPace::realtime), b).value();
  const HostLog rw = drive(*live, run_wall_clock);
  ASSERT_EQ(rf.decisions.size(), rw.decisions.size());
  for (std::size_t i = 0; i < rf.decisions.size(); ++i) {
    EXPECT_EQ(rf.decisions[i].window_index, rw.decisions[i].window_index);
    EXPECT_EQ(rf.decisions[i].raw_class, rw.decisions[i].raw_class);
    EXPECT_EQ(rf.decisions[i].intent.label, rw.decisions[i].intent.label);
  }
  // The wall-clock loop ticked at its own rate across the whole replay.
  EXPECT_GT(rw.ticks.size(), 2000u);
}

// A classifier that stalls once (a slow network, a page fault, a blocked thread) on the stream side.
class StallingClassifier final : public models::Classifier {
 public:
  StallingClassifier(models::LdaClassifier lda, std::size_t stall_at, double stall_s)
      : lda_(std::move(lda)), stall_at_(stall_at), stall_s_(stall_s) {}
  std::size_t n_inputs() const noexcept override { return lda_.n_inputs(); }
  std::size_t n_classes() const noexcept override { return lda_.n_classes(); }
  const std::vector<std::string>& class_names() const noexcept override { return lda_.class_names(); }
  const std::vector<std::string>& input_names() const noexcept override { return lda_.input_names(); }
  models::InputKind input_kind() const noexcept override { return lda_.input_kind(); }
  Status reserve(std::size_t n) override { return lda_.reserve(n); }
  Status predict_proba(const double* in, std::size_t rows, std::size_t cols, double* out) override {
    if (++calls_ == stall_at_) std::this_thread::sleep_for(std::chrono::duration<double>(stall_s_));
    return lda_.predict_proba(in, rows, cols, out);
  }

 private:
  models::LdaClassifier lda_;
  std::size_t stall_at_, calls_ = 0;
  double stall_s_;
};

TEST(Session, AStalledClassifierStillLetsTheWatchdogHoldOnTime) {
  auto base = test::make_model();
  auto m = std::make_shared<PipelineModel>(*base);
  m->network = std::make_shared<StallingClassifier>(base->lda, 30, 0.6);  // ~1.5 s in, the stream stops 600 ms
  SessionSpec ws;
  ws.clock = SessionClock::wall;
  hw::MockExo exo;
  auto s = Session::create(ws, m, replay_of(test::make_recording("gait", 4.0, 5), realtime::ReplayPace::realtime), exo)
               .value();
  const HostLog r = drive(*s, run_wall_clock);
  // The newest decision before the stall, and the first tick that held after it.
  double last_emit = 0.0, stall_end = 0.0;
  for (std::size_t i = 1; i < r.decisions.size(); ++i) {
    const double e0 = double(r.decisions[i - 1].emit_ns - s->origin_ns()) * 1e-9;
    const double e1 = double(r.decisions[i].emit_ns - s->origin_ns()) * 1e-9;
    if (e1 - e0 > 0.4) {
      last_emit = e0;
      stall_end = e1;
      break;
    }
  }
  ASSERT_GT(stall_end, 0.0) << "no stall seen";
  double hold_at = -1.0, max_gap = 0.0;
  for (std::size_t i = 1; i < r.ticks.size(); ++i) {
    const auto& t = r.ticks[i];
    if (t.t_s > last_emit && t.t_s < stall_end) max_gap = std::max(max_gap, t.t_s - r.ticks[i - 1].t_s);
    if (hold_at < 0 && t.t_s > last_emit && t.mode == SupervisorMode::hold) hold_at = t.t_s;
  }
  const double watchdog = s->loop().spec().supervisor.watchdog_s;
  ASSERT_GT(hold_at, 0.0) << "the watchdog never held";
  // Held within the watchdog time plus one tick of the last fresh intent (plus the scheduler's jitter on a busy
  // 2-core machine), while the stream thread was still stalled; the control thread never stopped ticking.
  EXPECT_LE(hold_at - last_emit, watchdog + s->control_period_s() + 0.03);
  EXPECT_GE(hold_at - last_emit, watchdog);
  EXPECT_LT(hold_at, stall_end);
  EXPECT_LT(max_gap, 0.05);
}

// On the wall clock a decision emitted after the control thread read the clock for its tick is not lost as "from
// the future": it waits for the next tick and arrives fresh.
TEST(Session, AWallClockDecisionNewerThanTheTickWaitsForTheNextTick) {
  auto model = test::make_model();
  hw::MockExo exo;
  SessionSpec spec;
  spec.clock = SessionClock::wall;
  auto s = Session::create(spec, model, replay_of(test::make_recording("gait", 3.0, 7)), exo).value();
  ASSERT_TRUE(s->configure().ok());
  ASSERT_TRUE(s->activate(0.0).ok());
  const double t_before = double(realtime::steady_now_ns() - s->origin_ns()) * 1e-9;
  while (s->stats().decisions_made < 5) ASSERT_EQ(s->pump().status, realtime::ReadStatus::ok);
  s->step(t_before, s->control_period_s());  // the tick's time was read before these decisions left the pipeline
  EXPECT_EQ(s->stats().decisions_delivered, 0u);
  const double t_now = double(realtime::steady_now_ns() - s->origin_ns()) * 1e-9;
  s->step(t_now, s->control_period_s());
  EXPECT_EQ(s->stats().decisions_delivered, s->stats().decisions_made);
  EXPECT_EQ(s->loop().supervisor().intervention_count(control::SafetyReason::stale_intent), 0u);
  EXPECT_TRUE(s->deactivate().ok());
}

TEST(Session, UnitsAreConvertedOrRefusedNeverGuessed) {
  auto model = test::make_model();
  hw::MockExo exo;
  auto rec = test::make_recording("rest", 2.0, 3);
  rec.channel_units.assign(4, "");
  auto r = Session::create({}, model, replay_of(rec), exo);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::mismatch);
  EXPECT_NE(r.error().reason.find("no unit"), std::string::npos) << r.error().reason;
  SessionSpec declared;
  declared.input_unit = "mV";
  EXPECT_TRUE(Session::create(declared, model, replay_of(rec), exo));

  rec.channel_units.assign(4, "V");
  auto volts = Session::create({}, model, replay_of(rec), exo);
  ASSERT_TRUE(volts);
  EXPECT_EQ((*volts)->conversion().scale, 1000.0);

  rec.channel_units.assign(4, "adc");
  auto no_board = Session::create({}, model, replay_of(rec), exo);
  ASSERT_FALSE(no_board);
  EXPECT_NE(no_board.error().reason.find("board profile"), std::string::npos);
  SessionSpec env;
  env.board = realtime::default_board_profile();
  env.board->output = realtime::BoardOutput::envelope;
  auto e = Session::create(env, model, replay_of(rec), exo);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().reason.find("envelope"), std::string::npos);

  auto wrong_order = test::make_recording("rest", 2.0, 3);
  std::swap(wrong_order.channel_names[0], wrong_order.channel_names[1]);
  realtime::ReplayOptions ro;  // all channels, in the recording's order
  auto src = std::make_unique<realtime::ReplaySource>(realtime::ReplaySource::create(wrong_order, ro).value());
  auto w = Session::create({}, model, std::move(src), exo);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, ErrorCode::mismatch);
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Session, SafetyLogIsOnDiskAsEventsHappenAndSurvivesKill9) {
  const fs::path log = temp_path("events_kill.csv");
  fs::remove(log);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto model = test::make_model();
    hw::MockExo exo;
    SessionSpec spec;
    spec.event_log = log;
    auto s = Session::create(spec, model, replay_of(test::make_recording("gait", 3.0, 7)), exo).value();
    if (!s->configure().ok() || !s->activate(0.0).ok()) ::_exit(3);
    for (int k = 0; k < 200; ++k) {
      (void)s->pump();
      if (k == 100) s->request_emergency_stop();
      s->step(k * 0.001, 0.001);
    }
    (void)s->flush_events();
    std::ofstream(log.string() + ".ready") << "1";
    for (;;) ::pause();  // killed here, with the session still running
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(log.string() + ".ready") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  const std::string text = read_file(log);
  EXPECT_EQ(text.rfind(kEventLogHeader, 0), 0u) << text;
  EXPECT_NE(text.find(",emergency_stop,"), std::string::npos) << text;
  fs::remove(log);
  fs::remove(log.string() + ".ready");
}

TEST(Session, SafetyLogIsNotClearedByActivate) {
  const fs::path log = temp_path("events_reactivate.csv");
  auto model = test::make_model();
  hw::MockExo exo;
  SessionSpec spec;
  spec.event_log = log;
  auto s = Session::create(spec, model, replay_of(test::make_recording("gait", 3.0, 7)), exo).value();
  ASSERT_TRUE(s->configure().ok());
  ASSERT_TRUE(s->activate(0.0).ok());
  s->request_emergency_stop();
  s->step(0.0, 0.001);
  ASSERT_TRUE(s->deactivate().ok());
  ASSERT_TRUE(s->activate(1.0).ok());
  s->step(1.0, 0.001);
  ASSERT_TRUE(s->deactivate().ok());
  const std::string text = read_file(log);
  EXPECT_NE(text.find(",emergency_stop,"), std::string::npos) << text;
  bool in_memory = false;
  for (const auto& e : s->loop().supervisor().events()) in_memory = in_memory || e.reason == control::SafetyReason::emergency_stop;
  EXPECT_TRUE(in_memory);
  fs::remove(log);
}

// ---- a board that sends what a MyoWare 2.0 really outputs, over a pseudo-terminal ---------------------------

TEST(Session, MyoWareCodesOverAPseudoTerminalGiveTheReplayDecisionsWithoutASensorFaultHold) {
  auto model = test::make_model();
  const auto board = realtime::default_board_profile();
  const auto codes = test::to_board_codes(test::make_recording("gait", 4.0, 21), board);
  // The codes look like a real board's: centred at mid-scale, ~41 codes per mV.
  double mean = 0;
  for (std::size_t i = 0; i < codes.n_samples; ++i) mean += codes.samples[i];
  EXPECT_NEAR(mean / double(codes.n_samples), 511.5, 2.0);
  EXPECT_NEAR(1.0 / board.millivolts_per_code(), 40.9, 0.1);

  // The replay of the same recording after quantisation, in mV, in stream time.
  hw::MockExo a;
  auto ref = Session::create({}, model, replay_of(test::codes_to_mv(codes, board)), a).value();
  const HostLog want = drive(*ref, run_stream_clock);

  test::PtyBoard pty(codes, 1000.0);
  ASSERT_FALSE(pty.port().empty());
  realtime::SerialOptions so;
  so.port = pty.port();
  so.n_channels = 4;
  so.channel_names = {"RF", "BF", "VM", "ST"};
  so.backend = realtime::SerialBackend::posix;
  auto serial = realtime::SerialSource::create(so);
  ASSERT_TRUE(serial) << serial.error().message();
  SessionSpec ls;
  ls.clock = SessionClock::wall;
  ls.board = board;
  hw::MockExo b;
  auto live = Session::create(ls, model, std::make_unique<realtime::SerialSource>(std::move(*serial)), b).value();
  EXPECT_NE(live->conversion().description.find("ADC codes"), std::string::npos);
  const HostLog got = drive(*live, run_wall_clock, 4.3);

  // Same window -> same class, for (nearly) every window the board delivered.
  std::map<std::size_t, int> ref_class;
  for (const auto& d : want.decisions) ref_class[d.window_index] = d.raw_class;
  std::size_t same = 0;
  for (const auto& d : got.decisions) same += ref_class.count(d.window_index) && ref_class[d.window_index] == d.raw_class;
  ASSERT_GT(got.decisions.size(), want.decisions.size() * 9 / 10);
  EXPECT_GE(double(same), 0.99 * double(got.decisions.size()));
  // No sensor fault, and the supervisor let the leg move once decisions flowed.
  std::size_t fault_ticks = 0, normal = 0;
  for (const auto& t : got.ticks) fault_ticks += t.sensor_faults != 0, normal += t.mode == SupervisorMode::normal;
  EXPECT_EQ(fault_ticks, 0u);
  EXPECT_EQ(live->stats().sensor_fault_onsets, 0u);
  EXPECT_GT(normal, got.ticks.size() / 2);
}

// The same board stream fed as if its codes were millivolts is what the system must never do: the session
// refuses a code source without a board profile (see UnitsAreConvertedOrRefusedNeverGuessed); and a profile that
// does not remove the mid-scale offset is visible as a sensor fault, not silently decoded.
TEST(Session, AnOffsetNotRemovedIsASensorFaultNotADecision) {
  auto model = test::make_model();
  auto board = realtime::default_board_profile();
  board.offset_code = 0.0;  // wrong: the RAW output sits at mid-scale
  auto codes = test::to_board_codes(test::make_recording("gait", 3.0, 21), realtime::default_board_profile());
  SessionSpec spec;
  spec.board = board;
  hw::MockExo exo;
  auto s = Session::create(spec, model, replay_of(codes), exo).value();
  const HostLog r = drive(*s, run_stream_clock);
  std::size_t normal = 0, faulted = 0;
  for (const auto& t : r.ticks) normal += t.mode == SupervisorMode::normal, faulted += (t.sensor_faults & control::sensor_fault_electrode_off) != 0;
  EXPECT_GT(faulted, r.ticks.size() / 2);
  EXPECT_LT(normal, r.ticks.size() / 10);
}

}  // namespace
}  // namespace myoexo::session
