// The knee-angle network behind the embeddable session, fed what a MyoWare board sends: ADC codes centred at
// mid-scale, a board reset in the middle of the stream, a saturated electrode, and a profile that forgets the
// offset. What a person at the exoskeleton would notice: the knee follows the same estimates as from the signal in
// mV, never leaves its limits, and stops following (and holds) on a sensor fault until an explicit reset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "app/app.hpp"
#include "app/knee_network.hpp"
#include "models/gradient_boosting.hpp"
#include "control/exo_types.hpp"
#include "control/sensor_fault.hpp"
#include "hw/mock_exo.hpp"
#include "realtime/replay_source.hpp"
#include "session/drivers.hpp"
#include "session/session.hpp"
#include "session/session_test_util.hpp"

namespace myoexo {
namespace {

#ifdef MYOEXO_HAVE_TORCH

using control::SupervisorMode;

std::unique_ptr<realtime::EmgSource> replay_of(io::Recording rec) {
  realtime::ReplayOptions ro;
  ro.chunk_frames = 10;
  ro.channels = {"RF", "BF", "VM", "ST"};
  return std::make_unique<realtime::ReplaySource>(realtime::ReplaySource::create(std::move(rec), ro).value());
}

// An lda_context LDA (rest / standing) with the cnn1d_context knee-angle network, trained on angle-modulated
// recordings in mV (the unit the readers give). Trained once for every test here.
std::shared_ptr<const session::PipelineModel> knee_network_model() {
  static const std::shared_ptr<const session::PipelineModel> model = [] {
    std::vector<io::Recording> train{session::test::make_recording("rest", 20.0, 1),
                                     session::test::make_angle_recording(40.0, 3),
                                     session::test::make_angle_recording(40.0, 4)};
    io::Recording& rest = train[0];  // rest has no goniometer: a straight, still knee
    rest.channel_names.push_back("FX");
    rest.channel_units.push_back("deg");
    rest.samples.resize(5 * rest.n_samples, 5.0);
    auto m = session::train_pipeline_model(train, session::lda_context_model(750));
    if (!m) return std::shared_ptr<const session::PipelineModel>();
    std::ostringstream o, e;
    app::Context ctx{o, e, std::nullopt, true};
    app::KneeNetworkOptions kn;
    kn.epochs = 8;
    auto k = app::train_knee_angle_network(ctx, train, std::move(*m), {}, kn);
    EXPECT_TRUE(k) << (k ? "" : k.error().message());
    if (!k) return std::shared_ptr<const session::PipelineModel>();
    return std::make_shared<const session::PipelineModel>(std::move(*k));
  }();
  return model;
}

struct SessionRun {
  std::vector<session::TickTelemetry> ticks;
  session::SessionStats stats;
};

// A stream-clock session with proportional mode on; `board` set: the source delivers ADC codes.
// `resume_at_s`: the host asks to resume (after a hold) once the telemetry reaches that time.
SessionRun run_session(const io::Recording& rec, std::optional<realtime::BoardProfile> board,
                       double resume_at_s = -1.0, std::shared_ptr<const session::PipelineModel> model = nullptr) {
  SessionRun out;
  hw::MockExo exo;
  session::SessionSpec spec;
  spec.loop.proportional.enabled = true;
  spec.board = board;
  auto s = session::Session::create(spec, model ? model : knee_network_model(), replay_of(rec), exo);
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  if (!s) return out;
  session::DriverOptions o;
  bool resumed = false;
  o.service = [&] {
    session::TickTelemetry t;
    while ((*s)->pop_telemetry(t)) out.ticks.push_back(t);
    if (resume_at_s >= 0.0 && !resumed && !out.ticks.empty() && out.ticks.back().t_s >= resume_at_s) {
      (*s)->request_resume();
      resumed = true;
    }
    realtime::Decision d;
    while ((*s)->pop_decision(d)) {
    }
    (void)(*s)->flush_events();
  };
  EXPECT_TRUE((*s)->configure().ok());
  EXPECT_TRUE((*s)->activate(0.0).ok());
  auto rep = session::run_stream_clock(**s, o);
  EXPECT_TRUE(rep.ok()) << (rep.ok() ? "" : rep.error().message());
  EXPECT_TRUE((*s)->deactivate().ok());
  o.service();
  out.stats = (*s)->stats();
  return out;
}

// Ticks whose knee set-point left the joint's position limits.
std::size_t outside_limits(const SessionRun& r) {
  const auto limits = control::default_joint_limits();
  std::size_t n = 0;
  for (const auto& t : r.ticks)
    n += t.setpoint[1] < limits[1].position_min_rad - 1e-9 || t.setpoint[1] > limits[1].position_max_rad + 1e-9;
  return n;
}

double following_fraction(const SessionRun& r, double from_s = 0.0, double to_s = 1e9) {
  std::size_t n = 0, f = 0;
  for (const auto& t : r.ticks)
    if (t.t_s >= from_s && t.t_s < to_s) ++n, f += t.following;
  return n ? double(f) / double(n) : 0.0;
}

TEST(KneeNetworkSession, MyoWareCodesGiveTheMillivoltEstimatesAndTheKneeFollowsInsideItsLimits) {
  ASSERT_TRUE(knee_network_model());
  ASSERT_NE(knee_network_model()->knee_angle, nullptr);
  EXPECT_EQ(knee_network_model()->knee_angle->window_length(), 1000u);  // the window and 750 past samples
  const auto board = realtime::default_board_profile();
  const io::Recording codes = session::test::to_board_codes(session::test::make_angle_recording(16.0, 11), board);
  const SessionRun mv = run_session(session::test::codes_to_mv(codes, board), std::nullopt);
  const SessionRun live = run_session(codes, board);
  ASSERT_EQ(mv.ticks.size(), live.ticks.size());
  ASSERT_GT(live.ticks.size(), 10000u);
  // The session's conversion of the codes is the one the mV replay was made with: the same estimates, tick by tick.
  std::size_t finite = 0;
  double max_diff = 0.0;
  for (std::size_t i = 0; i < live.ticks.size(); ++i) {
    const double a = live.ticks[i].knee_estimate_deg, b = mv.ticks[i].knee_estimate_deg;
    ASSERT_EQ(std::isfinite(a), std::isfinite(b)) << "tick " << i;
    if (!std::isfinite(a)) continue;
    ++finite;
    max_diff = std::max(max_diff, std::abs(a - b));
    EXPECT_EQ(live.ticks[i].following, mv.ticks[i].following) << "tick " << i;
  }
  EXPECT_LT(max_diff, 1e-9);
  EXPECT_GT(finite, live.ticks.size() * 9 / 10);
  // The person's knee (40 +- 30 deg) is followed: most of the time, inside the limits, in normal mode.
  double se = 0;
  std::size_t n = 0, normal = 0;
  for (const auto& t : live.ticks) {
    normal += t.mode == SupervisorMode::normal;
    if (t.t_s < 4.0) continue;
    const double e = control::rad_to_deg(t.setpoint[1]) - session::test::knee_angle_at(t.t_s, 11);
    se += e * e, ++n;
  }
  EXPECT_GT(following_fraction(live), 0.5);
  EXPECT_LT(std::sqrt(se / double(n)), 12.0) << "knee set-point vs the person's knee";
  EXPECT_GT(normal, live.ticks.size() * 3 / 4);
  EXPECT_EQ(outside_limits(live), 0u);
  EXPECT_EQ(live.stats.sensor_fault_onsets, 0u);
}

// The board resets (an Uno restarts when its port is reopened): the signal jumps to a new stretch of the person's
// movement and the network's past holds the old one for 1 s. The estimate may be wrong for that second, but the
// knee never passes a limit, and it follows again once the past is the new stretch.
TEST(KneeNetworkSession, ABoardResetMidStreamNeverPassesALimitAndTheKneeFollowsAgain) {
  ASSERT_TRUE(knee_network_model());
  const auto board = realtime::default_board_profile();
  const io::Recording a = session::test::to_board_codes(session::test::make_angle_recording(8.0, 11), board);
  const io::Recording b = session::test::to_board_codes(session::test::make_angle_recording(10.0, 12), board);
  io::Recording joined = a;
  const std::size_t na = a.n_samples, nb = b.n_samples, ch = a.channel_names.size();
  joined.n_samples = na + nb;
  joined.samples.assign(ch * joined.n_samples, 0.0);
  for (std::size_t c = 0; c < ch; ++c) {
    std::copy_n(a.samples.begin() + std::ptrdiff_t(c * na), na, joined.samples.begin() + std::ptrdiff_t(c * (na + nb)));
    // b is another stretch of the movement (another phase): the knee steps at the reset
    std::copy_n(b.samples.begin() + std::ptrdiff_t(c * nb), nb,
                joined.samples.begin() + std::ptrdiff_t(c * (na + nb) + na));
  }
  const SessionRun r = run_session(joined, board);
  ASSERT_GT(r.ticks.size(), 17000u);
  EXPECT_EQ(outside_limits(r), 0u);
  // Through the jump the knee set-point moves no faster than the supervisor's set-point rate bound.
  const auto limits = control::default_joint_limits();
  for (std::size_t i = 1; i < r.ticks.size(); ++i) {
    const double dt = r.ticks[i].t_s - r.ticks[i - 1].t_s;
    ASSERT_LE(std::abs(r.ticks[i].setpoint[1] - r.ticks[i - 1].setpoint[1]),
              limits[1].setpoint_rate_max_rad_s * dt + 1e-9) << "tick " << i;
  }
  EXPECT_GT(following_fraction(r, 10.0), 0.5);  // 2 s after the reset
  double se = 0;
  std::size_t n = 0;
  for (const auto& t : r.ticks)
    if (t.t_s >= 12.0) {
      const double e = control::rad_to_deg(t.setpoint[1]) - session::test::knee_angle_at(t.t_s - 8.0, 12);
      se += e * e, ++n;
    }
  EXPECT_LT(std::sqrt(se / double(std::max<std::size_t>(n, 1))), 12.0) << "knee vs the person after the reset";
}

// A saturated electrode (RF at the ADC's top code for 1 s) is a sensor fault: the supervisor holds and the knee
// stops where it is. When the electrode recovers, the knee does not start following again by itself while the
// person goes on asking for the same movement (after a hold the intent must change, or the operator resumes); the
// operator's resume brings the following back. A profile that does not remove the mid-scale offset is a fault from
// the start: the knee never follows.
TEST(KneeNetworkSession, ASaturatedElectrodeHoldsTheKneeUntilResumedAndAnOffsetLeftInNeverFollows) {
  ASSERT_TRUE(knee_network_model());
  const auto board = realtime::default_board_profile();
  io::Recording codes = session::test::to_board_codes(session::test::make_angle_recording(14.0, 11), board);
  for (std::size_t i = 6000; i < 7000; ++i) codes.samples[i] = board.max_code();  // channel 0 (RF)
  for (const double resume_at : {-1.0, 9.0}) {
    const SessionRun r = run_session(codes, board, resume_at);
    ASSERT_FALSE(r.ticks.empty());
    EXPECT_GT(following_fraction(r, 4.0, 6.0), 0.5);  // before the fault the knee follows
    std::size_t faulted = 0, held = 0;
    double knee_at_fault = std::numeric_limits<double>::quiet_NaN(), moved = 0.0;
    for (const auto& t : r.ticks) {
      if (t.t_s < 6.0 || t.t_s >= 7.0) continue;
      faulted += (t.sensor_faults & control::sensor_fault_saturation) != 0;
      if (t.t_s < 6.1) continue;  // detection and the controlled stop
      held += t.mode == SupervisorMode::hold && !t.following;
      if (std::isnan(knee_at_fault)) knee_at_fault = t.setpoint[1];
      moved = std::max(moved, std::abs(t.setpoint[1] - knee_at_fault));
    }
    EXPECT_GT(faulted, 800u);
    EXPECT_GT(held, 800u);
    EXPECT_LT(control::rad_to_deg(moved), 0.5) << "the knee moved during the fault";
    EXPECT_GE(r.stats.sensor_fault_onsets, 1u);
    EXPECT_EQ(following_fraction(r, 6.1, 9.0), 0.0);  // recovered at ~8 s, still not following by itself
    if (resume_at < 0)
      EXPECT_EQ(following_fraction(r, 6.1), 0.0);
    else
      EXPECT_GT(following_fraction(r, 10.0), 0.5);  // the operator resumed at 9 s
    EXPECT_EQ(outside_limits(r), 0u);
  }

  auto no_offset = board;
  no_offset.offset_code = 0.0;  // wrong: the RAW output sits at mid-scale
  const io::Recording clean = session::test::to_board_codes(session::test::make_angle_recording(6.0, 11), board);
  const SessionRun wrong = run_session(clean, no_offset);
  ASSERT_FALSE(wrong.ticks.empty());
  EXPECT_EQ(following_fraction(wrong), 0.0);
  std::size_t normal = 0;
  for (const auto& t : wrong.ticks) normal += t.mode == SupervisorMode::normal;
  EXPECT_LT(normal, wrong.ticks.size() / 10);
  EXPECT_EQ(outside_limits(wrong), 0u);
}

// The knee-angle trees behind the same session and the same board input: the codes give the mV estimates tick for
// tick, the knee follows inside its limits, and a saturated electrode holds it until the operator resumes.
TEST(KneeNetworkSession, KneeAngleTreesOnMyoWareCodesFollowAndHoldLikeTheNetwork) {
  if (!models::gradient_boosting_available()) GTEST_SKIP() << "built without XGBoost";
  std::vector<io::Recording> train{session::test::make_recording("rest", 20.0, 1),
                                   session::test::make_angle_recording(40.0, 3),
                                   session::test::make_angle_recording(40.0, 4)};
  train[0].channel_names.push_back("FX");
  train[0].channel_units.push_back("deg");
  train[0].samples.resize(5 * train[0].n_samples, 5.0);
  auto m = session::train_pipeline_model(train, session::lda_context_model(750));
  ASSERT_TRUE(m) << m.error().message();
  std::ostringstream o, e;
  app::Context ctx{o, e, std::nullopt, true};
  auto k = app::train_knee_angle_trees(ctx, train, std::move(*m), {});
  ASSERT_TRUE(k) << k.error().message();
  const auto model = std::make_shared<const session::PipelineModel>(std::move(*k));
  ASSERT_EQ(model->knee_angle->kind_name(), "trees");
  const auto board = realtime::default_board_profile();
  io::Recording codes = session::test::to_board_codes(session::test::make_angle_recording(14.0, 11), board);
  const SessionRun mv = run_session(session::test::codes_to_mv(codes, board), std::nullopt, -1.0, model);
  const SessionRun live = run_session(codes, board, -1.0, model);
  ASSERT_EQ(mv.ticks.size(), live.ticks.size());
  std::size_t finite = 0;
  for (std::size_t i = 0; i < live.ticks.size(); ++i) {
    const double a = live.ticks[i].knee_estimate_deg, b = mv.ticks[i].knee_estimate_deg;
    ASSERT_EQ(std::isfinite(a), std::isfinite(b)) << "tick " << i;
    if (!std::isfinite(a)) continue;
    ++finite;
    EXPECT_EQ(a, b) << "tick " << i;
  }
  EXPECT_GT(finite, live.ticks.size() * 9 / 10);
  EXPECT_GT(following_fraction(live), 0.5);
  EXPECT_EQ(outside_limits(live), 0u);
  EXPECT_EQ(live.stats.sensor_fault_onsets, 0u);
  // RF saturated for 1 s: hold, no following until the operator resumes at 9 s.
  for (std::size_t i = 6000; i < 7000; ++i) codes.samples[i] = board.max_code();
  const SessionRun fault = run_session(codes, board, 9.0, model);
  EXPECT_GE(fault.stats.sensor_fault_onsets, 1u);
  EXPECT_EQ(following_fraction(fault, 6.1, 9.0), 0.0);
  EXPECT_GT(following_fraction(fault, 10.0), 0.5);
  EXPECT_EQ(outside_limits(fault), 0u);
}

#else
TEST(KneeNetworkSession, NeedsLibTorch) { GTEST_SKIP() << "built without LibTorch"; }
#endif

}  // namespace
}  // namespace myoexo
